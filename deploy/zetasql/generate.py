"""Generates the Python gRPC client of ZetaSQL's local service from the protos the npm
package ships beside its server, into deploy/zetasql/py (not committed)."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "node_modules" / "@fivetrandevelopers" / "zetasql" / "lib" / "zetasql"
PROTOS = PACKAGE / "protos"
OUT = HERE / "py"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{PROTOS}",
            f"-I{well_known}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            *files,
        ]
    )
    if code == 0:
        sys.stdout.write(f"zetasql client: {len(files)} protos -> {OUT}\n")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())

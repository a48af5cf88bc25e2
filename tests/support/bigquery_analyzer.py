"""Google's ZetaSQL analyzer (the front end of BigQuery's SQL), as BigQuery would judge a
statement: with BigQuery's product mode and language features, the warehouse schema as
the catalog and each query parameter with the type the platform binds it as.

The server is the local service the npm package `@fivetrandevelopers/zetasql` ships
(installed by deploy/install.sh, with the Python client generated from its protos).
The emulator runs SQL through DuckDB and accepts things BigQuery refuses; this does not.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from contracts.catalog import Catalog
from contracts.warehouse import LOG_COLUMNS, MEMBER_ID_COLUMN
from segment_runtime.bigquery import to_query_parameters

ROOT = Path(__file__).resolve().parents[2]
ZETASQL = ROOT / "deploy" / "zetasql"
SERVER = ZETASQL / "node_modules" / "@fivetrandevelopers" / "zetasql" / "lib" / "zetasql"
sys.path.insert(0, str(ZETASQL / "py"))

import local_service_pb2 as service  # noqa: E402
import local_service_pb2_grpc as service_grpc  # noqa: E402
from zetasql.proto import options_pb2 as analyzer_options  # noqa: E402
from zetasql.proto import simple_catalog_pb2  # noqa: E402
from zetasql.public import options_pb2 as language  # noqa: E402
from zetasql.public import simple_table_pb2, type_pb2  # noqa: E402
from zetasql.resolved_ast import resolved_node_kind_pb2 as kinds  # noqa: E402

# The platform sends queries, CREATE TABLE ... AS SELECT and MERGE; nothing else is allowed.
STATEMENTS = [
    kinds.RESOLVED_QUERY_STMT,
    kinds.RESOLVED_CREATE_TABLE_AS_SELECT_STMT,
    kinds.RESOLVED_MERGE_STMT,
]
_TYPES = {
    "STRING": type_pb2.TYPE_STRING,
    "INT64": type_pb2.TYPE_INT64,
    "FLOAT64": type_pb2.TYPE_DOUBLE,
    "BOOL": type_pb2.TYPE_BOOL,
    "DATE": type_pb2.TYPE_DATE,
    "TIMESTAMP": type_pb2.TYPE_TIMESTAMP,
    "NUMERIC": type_pb2.TYPE_NUMERIC,
}
# Features the analyzer knows and BigQuery does not have: BigQuery refuses a cast between
# array types ("Casting between arrays with incompatible element types is not
# supported"), and with this feature on the analyzer would coerce ARRAY<INT64> to
# ARRAY<FLOAT64> where BigQuery finds no matching signature.
NOT_IN_BIGQUERY = {language.FEATURE_V_1_1_CAST_DIFFERENT_ARRAY_TYPES}
MEMBER_TABLE = re.compile(r"`(segment_[0-9a-f]{32})`")
LOG_TABLE = re.compile(r"`(segment_[0-9a-f]{32}_log)`")
RECIPIENT_TABLE = re.compile(r"`(recipients_[0-9a-f]{32})`")
# The member view's columns: the open intervals of the log (whose columns are LOG_COLUMNS).
MEMBER_COLUMNS = {
    MEMBER_ID_COLUMN: "STRING",
    "entered_at": "TIMESTAMP",
    "entered_build": "STRING",
    "entered_version": "INT64",
}


class RejectedError(AssertionError):
    pass


def _type(bq_type: str, repeated: bool = False) -> type_pb2.TypeProto:
    scalar = type_pb2.TypeProto(type_kind=_TYPES[bq_type])
    if not repeated:
        return scalar
    return type_pb2.TypeProto(
        type_kind=type_pb2.TYPE_ARRAY, array_type=type_pb2.ArrayTypeProto(element_type=scalar)
    )


def parameter_types(params: Mapping[str, Any]) -> dict[str, type_pb2.TypeProto]:
    """Each parameter's type exactly as the BigQuery client would declare it."""
    out: dict[str, type_pb2.TypeProto] = {}
    for p in to_query_parameters(dict(params)):
        if hasattr(p, "array_type"):
            out[p.name] = _type(p.array_type, repeated=True)
        else:
            out[p.name] = _type(p.type_)
    return out


@dataclass
class Analyzer:
    stub: service_grpc.ZetaSqlLocalServiceStub
    features: analyzer_options.LanguageOptionsProto
    catalog: Catalog
    project: str
    dataset: str

    def _language(self) -> analyzer_options.LanguageOptionsProto:
        options = analyzer_options.LanguageOptionsProto()
        options.CopyFrom(self.features)
        kept = [f for f in options.enabled_language_features if f not in NOT_IN_BIGQUERY]
        del options.enabled_language_features[:]
        options.enabled_language_features.extend(kept)
        options.product_mode = language.PRODUCT_EXTERNAL  # BigQuery's: INT64, FLOAT64
        del options.supported_statement_kinds[:]
        options.supported_statement_kinds.extend(STATEMENTS)
        return options

    def _catalog(self, sql: str) -> simple_catalog_pb2.SimpleCatalogProto:
        tables = {
            obj.table: {
                obj.id_column: ("STRING", False),
                **{f.column: (f.column_type, f.repeated) for f in obj.fields},
            }
            for obj in self.catalog.objects.values()
        }
        for member_table in set(MEMBER_TABLE.findall(sql)):
            tables[member_table] = {c: (t, False) for c, t in MEMBER_COLUMNS.items()}
        for log_table in set(LOG_TABLE.findall(sql)):
            tables[log_table] = {c: (t, False) for c, t in LOG_COLUMNS.items()}
        for recipient_table in set(RECIPIENT_TABLE.findall(sql)):
            tables[recipient_table] = {
                MEMBER_ID_COLUMN: ("STRING", False),
                "address": ("STRING", False),
            }
        dataset = simple_catalog_pb2.SimpleCatalogProto(
            name=self.dataset,
            table=[
                simple_table_pb2.SimpleTableProto(
                    name=name,
                    column=[
                        simple_table_pb2.SimpleColumnProto(name=c, type=_type(t, r))
                        for c, (t, r) in columns.items()
                    ],
                )
                for name, columns in tables.items()
            ],
        )
        return simple_catalog_pb2.SimpleCatalogProto(
            name="bigquery",
            catalog=[simple_catalog_pb2.SimpleCatalogProto(name=self.project, catalog=[dataset])],
            builtin_function_options=analyzer_options.ZetaSQLBuiltinFunctionOptionsProto(
                language_options=self._language()
            ),
        )

    def analyze(self, sql: str, params: Mapping[str, Any]) -> None:
        """Raises RejectedError with the statement and the analyzer's message."""
        options = analyzer_options.AnalyzerOptionsProto(
            language_options=self._language(),
            query_parameters=[
                analyzer_options.AnalyzerOptionsProto.QueryParameterProto(name=n, type=t)
                for n, t in parameter_types(params).items()
            ],
            parameter_mode=language.PARAMETER_NAMED,
            error_message_mode=language.ERROR_MESSAGE_ONE_LINE,
        )
        request = service.AnalyzeRequest(
            options=options, simple_catalog=self._catalog(sql), sql_statement=sql
        )
        try:
            self.stub.Analyze(request, timeout=30)
        except grpc.RpcError as exc:
            raise RejectedError(f"{exc.details()}\n--- statement ---\n{sql}") from exc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def zetasql_server() -> Iterator[tuple[service_grpc.ZetaSqlLocalServiceStub, Any]]:
    """The local service on a free loopback port, and BigQuery-like language features:
    the maximum the analyzer knows, as the BigQuery emulators built on it use."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(SERVER / "remote_server.so"), "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = service_grpc.ZetaSqlLocalServiceStub(channel)
        features = stub.GetLanguageOptions(service.LanguageOptionsRequest(maximum_features=True))
        yield stub, features
    finally:
        channel.close()
        proc.kill()
        proc.wait(timeout=10)
        time.sleep(0)  # let the port go

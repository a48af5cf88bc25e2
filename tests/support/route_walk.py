"""What the route walkers share: the gateway's routes naming a segment, taken from its
OpenAPI document so that a new route cannot be forgotten, and a body for those that
need one."""

from __future__ import annotations

from typing import Any

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}
BODIES = {
    "/chart": {"apply_chart": True},
    "/recipients": {"channel": "whatsapp"},
    "": {"name": "renamed"},
}


def body_for(method: str, path: str) -> dict[str, Any] | None:
    """A valid body for the operations that need one (so a refusal is about the segment)."""
    if method in ("PUT", "PATCH") or (method == "POST" and path.endswith("/recipients")):
        return next((b for suffix, b in BODIES.items() if path.endswith(suffix)), None)
    return None


def segment_routes(app: Any) -> list[tuple[str, str]]:
    """From the published OpenAPI document: every operation on a path naming a segment."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{segment_id}" in path
        for method in operations
    ]

"""Examples for every schema of the published OpenAPI document, in one place.

They are added when the document is built; a test checks that every operation's
request and success response has one, and that each example validates against its
own schema (so an example can never lie about the contract).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from contracts.rules import RULES_EXAMPLE

SEGMENT_ID = "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"
OTHER_ID = "0b6a1d2c-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
WHEN = "2026-11-21T08:00:00Z"

_SEGMENT: dict[str, Any] = {
    "id": SEGMENT_ID,
    "name": "Adults in Jakarta",
    "description": "Over 30, in Jakarta",
    "object": "customer",
    "rules": RULES_EXAMPLE,
    "rules_version": 1,
    "is_custom": True,
    "status": "active",
    "build_status": "done",
    "built_at": WHEN,
    "member_count": 1424,
    "last_error": None,
    "build": {
        "id": "0b7e6f1c-5d2a-4c9e-8f01-3a4b5c6d7e8f",
        "state": "done",
        "cause": "edit",
        "since": WHEN,
        "reason": None,
        "rules_version": 1,
    },
    "created_by": "user-42",
    "created_at": WHEN,
    "updated_at": WHEN,
}
_APPLIED = {
    "label": "S1",
    "segment_id": SEGMENT_ID,
    "name": "Adults in Jakarta",
    "sticky": False,
    "apply_chart": True,
}
_EMBEDDABLE = {
    "id": OTHER_ID,
    "name": "VIP customers",
    "build_status": "in_progress",
    "warning": "still building",
}

_LIST_ID = "5b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

EXAMPLES: dict[str, dict[str, Any]] = {
    "AccountOut": {
        "id": "d0000000-0000-4000-8000-000000000001",
        "plan": "plus",
        "limits": {
            "max_groups": 2,
            "max_conditions_per_group": 3,
            "max_depth": 2,
            "max_segments": 50,
        },
        "active_segments": 4,
    },
    "PlanIn": {"plan": "plus"},
    "SessionIn": {"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…"},
    "SessionOut": {
        "account_id": "d0000000-0000-4000-8000-000000000001",
        "user_id": "user-1",
        "csrf_token": "q3J9…",
        "expires_at": WHEN,
    },
    "CustomerFieldsOut": {
        "fields": [
            {
                "id": "city",
                "name": "City",
                "fieldType": "single_line_text",
                "fieldCategory": "default",
                "conditions": ["equals", "not_equals", "contains", "is_empty"],
                "options": [],
            },
            {
                "id": "email_opt_in",
                "name": "Email opt in",
                "fieldType": "boolean",
                "fieldCategory": "consent",
                "conditions": ["is", "is_not", "is_empty", "is_not_empty"],
                "options": [],
            },
        ],
        "associations": [
            {
                "label": "Deals",
                "fieldCategory": "association",
                "conditions": ["equals", "gt", "gte", "lt", "lte", "between"],
                "items": [{"id": "deals_count", "name": "Deals count", "field_type": "number"}],
            }
        ],
        "metrics": [
            {
                "label": "RFM",
                "fieldCategory": "metric",
                "conditions": ["equals", "gt", "gte", "lt", "lte", "between"],
                "items": [{"id": "recency_days", "name": "Recency (days)", "field_type": "number"}],
            }
        ],
    },
    "ReachabilityOut": {
        "segment_id": SEGMENT_ID,
        "total_matched": 1424,
        "whatsapp_pct": 33.71,
        "email_pct": 31.95,
        "whatsapp": {"reachable": 480, "percentage": 33.71},
        "email": {"reachable": 455, "percentage": 31.95},
    },
    "RecipientsRequest": {"channel": "whatsapp"},
    "RecipientListOut": {
        "id": _LIST_ID,
        "segment_id": SEGMENT_ID,
        "channel": "whatsapp",
        "recipients": 480,
        "created_at": WHEN,
        "created_by": "user-1",
    },
    "RecipientPage": {
        "items": [{"object_id": "cust_0000007", "address": "+628120000007"}],
        "page": 1,
        "per_page": 100,
        "total": 480,
    },
    "SegmentOut": _SEGMENT,
    "SegmentPage": {"items": [_SEGMENT], "page": 1, "per_page": 20, "total": 1},
    "SegmentPatch": {"name": "Adults in Jakarta (30+)"},
    "ValidateRequest": {"rules": RULES_EXAMPLE},
    "ValidationOut": {
        "valid": True,
        "errors": [],
        "rules": RULES_EXAMPLE,
        "sql": "CREATE OR REPLACE TABLE `p`.`acct_…`.`segment_validation` AS SELECT …",
        "parameters": {"p0": 30, "p1": "jakarta"},
        "dry_run": {"ok": True, "error": None, "bytes_processed": 0},
    },
    "PreviewRequest": {"rules": RULES_EXAMPLE, "sample_size": 3},
    "PreviewOut": {
        "total_matched": 1424,
        "total_customer_base": 10000,
        "total_base": 10000,
        "percentage": 14.24,
        "sample": [
            {
                "object_id": "cust_0000007",
                "full_name": "Ayu Santoso",
                "email": "ayu.7@example.com",
                "phone": "+628120000007",
                "city": "Jakarta",
            }
        ],
        "nodes": [
            {"path": "rules.root.rules[0]", "matched": 6120},
            {"path": "rules.root.rules[1]", "matched": 2010},
            {"path": "rules.root", "matched": 1424},
        ],
        "edit_diff": {
            "would_enter": 120,
            "would_exit": 35,
            "would_enter_sample": [
                {"object_id": "cust_0000012", "full_name": "Budi Hartono", "city": "Jakarta"}
            ],
            "would_exit_sample": [
                {"object_id": "cust_0000003", "full_name": "Citra Dewi", "city": "Bandung"}
            ],
        },
    },
    "DetailOut": {
        "id": SEGMENT_ID,
        "name": "Adults in Jakarta",
        "status": "active",
        "build_status": "done",
        "total_matched": 1424,
        "total_base": 10000,
        "percentage_reach": 14.24,
        "last_updated": WHEN,
        "reachability": {
            "whatsapp_pct": 33.71,
            "email_pct": 31.95,
            "whatsapp": {"reachable": 480, "percentage": 33.71},
            "email": {"reachable": 455, "percentage": 31.95},
        },
    },
    "MembersPage": {
        "items": [
            {
                "object_id": "cust_0000007",
                "full_name": "Ayu Santoso",
                "email": "ayu.7@example.com",
                "phone": "+628120000007",
                "city": "Jakarta",
            }
        ],
        "page": 1,
        "per_page": 20,
        "total": 1424,
    },
    "PerformanceOut": {
        "growth": [{"at": WHEN, "members": 1424, "entered": 30, "exited": 12}],
        "distributions": {
            "gender": [{"bucket": "female", "members": 702}, {"bucket": "male", "members": 690}]
        },
    },
    "EmbeddableOut": _EMBEDDABLE,
    "RefreshRun": {"run_id": OTHER_ID, "segments": 12},
    "ObjectOut": {"name": "customer", "label": "Customer", "family": "customer"},
    "PaletteOut": {
        "object": "customer",
        "label": "Customer",
        "fields": [
            {
                "name": "age",
                "label": "Age",
                "type": "number",
                "category": "default",
                "operators": ["gt", "gte", "between"],
                "options": [],
                "discovered": False,
            }
        ],
        "metrics": [
            {
                "name": "total_spent",
                "label": "Total spent",
                "group": "commerce",
                "relation": "orders",
            }
        ],
        "events": [
            {
                "name": "web_conversion",
                "label": "Web conversion",
                "kind": "web_conversion",
                "names": ["signup", "purchase"],
                "relation": "events",
                "behaviours": ["sequence", "occurrence", "stopped", "restarted", "regularly"],
            }
        ],
        "relations": [{"name": "deals", "label": "Deal", "target": "deal"}],
        "channels": ["whatsapp", "email"],
        "periods": {"day": 366, "week": 104, "month": 60},
    },
    "FieldValuesOut": {
        "field": "city",
        "popular": [{"value": "Jakarta", "count": 1210}],
        "sample": ["Bandung", "Jakarta"],
        "unique_count": 10,
    },
    "ApplySegments": {"segment_ids": [SEGMENT_ID], "sticky": False},
    "AppliedSegment": _APPLIED,
    "ChartToggle": {"apply_chart": True},
    "ReportFilterOut": {
        "label": "S1",
        "segment_id": SEGMENT_ID,
        "cte_name": "segment_6f1c2a5e3b8d4c1e9a772f0b5e9d1c44_members",
        "cte_sql": "SELECT `object_id` FROM `p`.`acct_…`.`segment_6f1c…`",
        "predicate_sql": "`r`.`customer_id` IN (SELECT `object_id` FROM segment_6f1c…_members)",
    },
    "PusherAuth": {"auth": "segment-demo-key:3f2a…"},
    "RealtimeChannel": {
        "channel": "private-account-9f0c2a61c0de4c1a9d1b2c3d4e5f6a7b",
        "events": ["segment.status", "segment.changed"],
        "websocket_path": "/v1/ws",
    },
    "Body_pusher_auth": {
        "socket_id": "1234.5678",
        "channel_name": "private-account-d000…01",
    },
    "HealthOut": {"status": "ok", "cache": "up"},
    "ReadyOut": {"status": "ok", "postgres": "up", "kafka": "up", "redis": "up"},
    "BuildRecordOut": {
        "id": "0b7e6f1c-5d2a-4c9e-8f01-3a4b5c6d7e8f",
        "state": "skipped",
        "cause": "refresh",
        "mode": "refresh",
        "run_id": "5a6b7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
        "origin_segment_id": None,
        "rules_version": 3,
        "reason": "dependency 'VIP customers' failed",
        "job_id": None,
        "requested_at": WHEN,
        "submitted_at": None,
        "started_at": None,
        "finished_at": WHEN,
        "duration_ms": None,
        "member_count": None,
        "entered": None,
        "exited": None,
        "bytes_billed": None,
        "build_time": None,
        "anomaly": None,
    },
    "ChangesPage": {
        "items": [
            {
                "change": "exited",
                "object_id": "cust_0000003",
                "at": WHEN,
                "build_id": "0b7e6f1c-5d2a-4c9e-8f01-3a4b5c6d7e8f",
                "rules_version": 4,
                "full_name": "Citra Dewi",
                "email": "citra.3@example.com",
                "phone": "+628120000003",
                "city": "Bandung",
            }
        ],
        "next_cursor": "eyJhdCI6IjIwMjYtMDYtMzBUMDM6MDA6MDArMDA6MDAiLCJpZCI6ImN1c3RfMDAwMDAwMyJ9",
    },
    "RefreshRunOut": {
        "id": "5a6b7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
        "trigger": "manual",
        "state": "finished",
        "scheduled_for": WHEN,
        "started_at": WHEN,
        "finished_at": WHEN,
        "total": 12,
        "counts": {"done": 10, "failed": 1, "skipped": 1},
    },
}


def install(app: FastAPI) -> None:
    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            for name, component in schema.get("components", {}).get("schemas", {}).items():
                if name in EXAMPLES and "examples" not in component:
                    component["examples"] = [EXAMPLES[name]]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


OPENAPI_PATH = "services/segment-api/openapi.json"
# What the document is made with: it depends on the routes only, never on these.
_PLACEHOLDERS = {
    "DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused",
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "REDIS_URL": "redis://127.0.0.1:1",
    "BIGQUERY_PROJECT": "unused",
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "unused",
    "PUSHER_SECRET": "unused",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_PORT": "1",
    "JWT_SECRET": "unused",
}


def openapi_json() -> str:
    """The API's OpenAPI document as committed beside the gateway: the console's types
    are generated from it (`npm run api-types`), and CI fails when either drifts."""
    from segment_api.http.app import create_app  # noqa: PLC0415 - the app imports this module
    from segment_api.settings import Settings  # noqa: PLC0415

    app = create_app(Settings.model_validate(_PLACEHOLDERS))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"

"""Generated artefacts of the contracts: the rule language's JSON Schema and its
reference page. `segctl docs` writes them; a test fails when they drift."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from contracts import push, reference_behaviour
from contracts.catalog import OBJECT_TYPES, OPERATORS_BY_TYPE, FieldType
from contracts.catalog.model import MetricGroup
from contracts.language import (
    COUNT_KIND_OPERATORS,
    DAY_COUNT_OPERATORS,
    LIST_OPERATORS,
    MAX_DAY_COUNT,
    MAX_LIST_VALUES,
    MAX_TEXT_VALUE,
    METRIC_OPERATORS,
    MIN_DAY_COUNT,
    NO_VALUE,
)
from contracts.limits import DEFAULT_PLAN, PLANS
from contracts.messages import AnyMessage
from contracts.rules import EventCondition, Operator, PreviousDaysWindow, RuleSet
from contracts.topics import TOPICS

SCHEMA_PATH = "contracts/schema/rules.v1.schema.json"
MESSAGES_PATH = "contracts/schema/messages.v1.schema.json"
PUSH_PATH = "contracts/schema/push.v1.schema.json"
REFERENCE_PATH = "docs/rule-language.md"

_EXAMPLE_VALUES: dict[FieldType, dict[str, Any]] = {
    FieldType.SINGLE_LINE_TEXT: {"field": "city", "operator": "equals", "value": "Jakarta"},
    FieldType.TEXT_AREA: {"field": "notes", "operator": "contains", "value": "renewal"},
    FieldType.URL: {"field": "website", "operator": "starts_with", "value": "https://shop"},
    FieldType.DROPDOWN_SELECT: {
        "field": "source",
        "operator": "in_list",
        "value": ["website", "referral"],
    },
    FieldType.MULTIPLE_SELECT: {
        "field": "tags",
        "operator": "contains_all",
        "value": ["vip", "b2b"],
    },
    FieldType.NUMBER: {"field": "age", "operator": "between", "value": [25, 40]},
    FieldType.DATE: {"field": "created_on", "operator": "in_last_days", "value": 30},
    FieldType.BOOLEAN: {"field": "email_opt_in", "operator": "is_true"},
    FieldType.UPLOAD: {"field": "avatar", "operator": "is_not_empty"},
    FieldType.SIGNATURE: {"field": "signature", "operator": "is_empty"},
    FieldType.GPS: {"field": "location", "operator": "is_not_empty"},
}

_CONDITION_EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "property",
        "One field of the object compared with a value.",
        {"type": "property", "field": "age", "operator": "gt", "value": 30},
    ),
    (
        "metric",
        "A catalog metric over related rows (count, sum, avg, min, max, distinct count, "
        "days since last), compared as a number; an optional window bounds the rows.",
        {
            "type": "metric",
            "metric": "total_spent",
            "operator": "gte",
            "value": 500,
            "window": {"kind": "previous_days", "days": 90},
        },
    ),
    (
        "event",
        "Performed events of a source N times, optionally one event name, with filters on "
        "the events; `did_not_perform` is exactly zero times.",
        {
            "type": "event",
            "event": "web_conversion",
            "name": "signup",
            "operator": "did_not_perform",
            "window": {"kind": "previous_days", "days": 30},
        },
    ),
    (
        "relationship",
        "How many related objects match the filters.",
        {
            "type": "relationship",
            "relation": "deals",
            "operator": "gte",
            "value": 1,
            "filters": [{"type": "property", "field": "won", "operator": "is_true"}],
        },
    ),
    (
        "segment",
        "Membership of another segment of the same object type (embedding); with "
        "`bucket`, of that bucket of its split only.",
        {
            "type": "segment",
            "segment_id": "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44",
            "operator": "not_in",
        },
    ),
    *reference_behaviour.EXAMPLES,
    (
        "group",
        "Children combined with `and`/`or`; `negate` excludes; an optional window.",
        {
            "type": "group",
            "combinator": "or",
            "negate": True,
            "rules": [{"type": "property", "field": "is_vip", "operator": "is_true"}],
        },
    ),
]


def rules_schema() -> str:
    schema = RuleSet.model_json_schema()
    schema["$id"] = "https://segment-platform.dev/schema/rules.v1.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def messages_schema() -> str:
    schemas = {t.name: t.message.model_json_schema() for t in TOPICS.values()}
    return json.dumps(schemas, indent=2, sort_keys=True) + "\n"


def push_schema() -> str:
    """The realtime contract: where pushes go, their event names and their payloads."""
    document = {
        "$id": "https://segment-platform.dev/schema/push.v1.schema.json",
        "description": push.__doc__,
        "channels": {
            "account": {
                "pusher": "private-account-{account_id hex}",
                "for": "users whose customers_segment_view is all",
            },
            "owner": {
                "pusher": "private-account-{account_id hex}-owner-{sha256(user_id)[:32]}",
                "for": "users whose customers_segment_view is owned: their own segments only",
            },
            "websocket": {
                "url": "ws://<notifier>/v1/ws?access_token=<token>",
                "for": "the same pushes, filtered by the token's view scope",
            },
            "which": "GET /v1/realtime/channel names the caller's; "
            "POST /v1/realtime/pusher/auth signs it",
        },
        "events": {
            push.STATUS_EVENT: push.SegmentStatusPush.model_json_schema(),
            push.CHANGE_EVENT: push.SegmentChangePush.model_json_schema(),
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _j(value: Any) -> str:
    return "`" + json.dumps(value) + "`"


def reference_markdown() -> str:
    out = [
        "# Rule language v1 — reference",
        "",
        "Generated from `contracts` by `uv run segctl docs`; do not edit by hand. The JSON",
        f"Schema is `{SCHEMA_PATH}`.",
        "",
        "A rule set names an object type and a root group:",
        "",
        "```json",
        json.dumps(
            {"version": 1, "object": "customer", "root": _CONDITION_EXAMPLES[-1][2]}, indent=2
        ),
        "```",
        "",
        "## Semantics",
        "",
        "- Text comparisons ignore case. `not_equals`, `not_contains`, `not_in_list`,",
        "  `contains_none` and `is_not_empty` are the exact negation of their positive twin,",
        "  so an object with an empty field matches `not_equals`.",
        "- Any other comparison with an empty value is false.",
        "- Over no related rows, count, sum and distinct count are 0, while avg, min, max",
        "  and days since last are empty.",
        "- Windows:",
        "  - `lifetime` sets no bound;",
        "  - `previous_days` N covers the N whole days before the build date, in the",
        "    account's time zone;",
        "  - `range` covers a fixed span of dates, both ends included.",
        "- The operator `in_last_days` N runs from N days before the build date through",
        "  that date.",
        "- The operator `more_than_days_ago` N matches dates strictly before N days",
        "  before the build date (an empty date never matches).",
        "- A condition's window wins over its group's, and an inner group's over an outer",
        "  group's. A group's own window also bounds the rows of an object that has a date",
        "  (sessions, events).",
        "",
        "## Condition kinds",
        "",
        "| kind | meaning | example |",
        "|---|---|---|",
    ]
    out += [f"| `{k}` | {meaning} | {_j(ex)} |" for k, meaning, ex in _CONDITION_EXAMPLES]
    out += [
        "",
        "## Field types and their operators",
        "",
        "| field type | operators | example |",
        "|---|---|---|",
    ]
    for ft in FieldType:
        ops = ", ".join(f"`{o.value}`" for o in OPERATORS_BY_TYPE[ft])
        out.append(f"| `{ft.value}` | {ops} | {_j({'type': 'property', **_EXAMPLE_VALUES[ft]})} |")
    out += [
        "",
        "| condition kind | operators |",
        "|---|---|",
        f"| `metric` | {_ops(METRIC_OPERATORS)} |",
        f"| `event`, `relationship` (a count, never empty) | {_ops(COUNT_KIND_OPERATORS)} |",
        "| `segment` | `in`, `not_in` |",
        "",
        *reference_behaviour.behaviour_markdown(),
        "## Values and limits",
        "",
        f"- {_ops(NO_VALUE)} take no value.",
        f"- {_ops(LIST_OPERATORS)} take a non-empty list of at most {MAX_LIST_VALUES} values.",
        f"- {_ops(DAY_COUNT_OPERATORS)} take a whole number of days from {MIN_DAY_COUNT}"
        f" to {MAX_DAY_COUNT}.",
        "- `between` takes `[low, high]`, low not above high.",
        f"- A text value has 1 to {MAX_TEXT_VALUE} characters, and no NUL character.",
        "- Numbers are finite; dates are `YYYY-MM-DD`.",
        f"- An event or relationship condition has at most {_max_filters()} filters.",
        "- A window applies only to rows that have a date (the object types below that",
        '  say "dated by"); on any other it is refused with `window_not_applicable`.',
        "- Groups, conditions per group, nesting depth and the steps of a sequence are",
        "  capped by the account's plan (`limit_exceeded`):",
        "",
        "| plan | groups | conditions per group | depth | active segments | sequence steps |",
        "|---|---|---|---|---|---|",
        *(
            f"| `{name}`{' (default)' if name == DEFAULT_PLAN else ''} | {p.max_groups} |"
            f" {p.max_conditions_per_group} | {p.max_depth} | {p.max_segments} |"
            f" {p.max_sequence_steps} |"
            for name, p in PLANS.items()
        ),
        "",
        "## Windows",
        "",
        "| kind | example |",
        "|---|---|",
        f"| `lifetime` | {_j({'kind': 'lifetime'})} |",
        f"| `previous_days` ({_bound(PreviousDaysWindow, 'days', 'ge')} to"
        f" {_bound(PreviousDaysWindow, 'days', 'le')} days)"
        f" | {_j({'kind': 'previous_days', 'days': 30})} |",
        f"| `range` | {_j({'kind': 'range', 'start': '2026-01-01', 'end': '2026-01-31'})} |",
        "",
        "## Object types",
        "",
    ]
    for obj in OBJECT_TYPES.values():
        out.append(f"### `{obj.name}` ({obj.label}, {obj.family})")
        out.append("")
        fields = ", ".join(
            f"`{f.name}` ({f.type.value}, {f.category.value})"
            for f in obj.fields
            if not f.references
        )
        out.append(
            f"- table `{obj.table}`, id `{obj.id_column}`"
            + (f", dated by `{obj.time_field}`" if obj.time_field else "")
        )
        out.append(f"- fields: {fields}")
        if obj.relations:
            out.append(
                "- relations: " + ", ".join(f"`{r.name}` → {r.target}" for r in obj.relations)
            )
        if obj.channels:
            out.append(
                "- reachability: "
                + ", ".join(
                    f"`{c.name}` (`{c.address_field}` with consent `{c.consent_field}`)"
                    for c in obj.channels
                )
            )
        if obj.events:
            out.append("- events: " + ", ".join(f"`{e.name}`" for e in obj.events))
        named = [m for m in obj.metrics if m.group is not MetricGroup.ACTIVITY]
        if named:
            out.append("- metrics: " + ", ".join(f"`{m.name}` ({m.group.value})" for m in named))
        generic = len(obj.metrics) - len(named)
        if generic:
            out.append(
                f"- plus {generic} generic metrics per relation: `<relation>_count`,"
                " `<relation>_<number>_sum|avg|min|max`,"
                " `<relation>_<choice>_distinct_count`, `<relation>_days_since_last`"
            )
        out.append("")
    return "\n".join(out)


def _ops(operators: Iterable[Operator]) -> str:
    return ", ".join(f"`{o.value}`" for o in sorted(operators, key=list(Operator).index))


def _bound(model: type[BaseModel], field: str, kind: str) -> int:
    """A bound the JSON Schema declares (ge, le, max_length), read from the model."""
    (value,) = [getattr(m, kind) for m in model.model_fields[field].metadata if hasattr(m, kind)]
    return int(value)


def _max_filters() -> int:
    return _bound(EventCondition, "filters", "max_length")


def all_messages() -> list[type[AnyMessage]]:
    return [t.message for t in TOPICS.values()]

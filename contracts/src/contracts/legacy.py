"""The first document's older rule shape, converted to the canonical form.

    {"conjunction": "and",                 # how groups combine (default and)
     "ruleGroups": [{
        "mainOperator": "include" | "exclude",
        "conjunction": "and" | "or",        # how the group's conditions combine
        "segmentObject": "session" | "crm-lead" | ...,
        "conditionFocus": "property" | "metric" | "relationship" | "web-conversion-event"
                          | "ecommerce-event" | "sales-conversion-event" | "other-event",
        "embeddedSegmentId": "uuid" | null,  # ANDed with the group's conditions
        "dateRangeFilter": {"type": "lifetime-of-the-object" | "previous-period"
                                    | "specific-date-range",
                            "numberOfDaysPrevious": 30, "startDate": "...", "endDate": "..."},
        "g0": {"conjunction", "type", "key", "subKey", "subKeyLv2", "condition", "value",
               "property", "id"},
        "g1": {...}}]}

A condition's own `conjunction` (from g1 on) joins it to the conditions before
it, left to right; where it is missing, the group's `conjunction` applies.
Focus by focus: `property` and `metric` read `key` as the field or metric;
`relationship` reads `key` as the relation and compares the count; the event
focuses read `id` (or `key`) as the event name and `property`, `condition` and
`value` as a filter on the events, performed at least once.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from contracts.rules import Operator, RuleSet

OBJECTS = {
    "event": "event",
    "session": "session",
    "user": "user",
    "people": "people",
    "revealed-company": "revealed_company",
    "company": "revealed_company",
    "web-conversion": "web_conversion",
    "customer": "customer",
    "contact": "customer",
    **{
        f"crm-{n}": f"crm_{n.replace('-', '_')}"
        for n in (
            "lead",
            "contact",
            "account",
            "parent-account",
            "opportunity",
            "quote",
            "order",
            "contract",
            "campaign",
            "event",
        )
    },
}
EVENT_FOCUS = {
    "web-conversion-event": "web_conversion",
    "ecommerce-event": "ecommerce",
    "sales-conversion-event": "sales_conversion",
    "other-event": "custom",
}
OPERATOR_ALIASES = {
    "not_equal": Operator.NOT_EQUALS,
    "greater_than": Operator.GT,
    "greater_than_or_equal": Operator.GTE,
    "greater_or_equal": Operator.GTE,
    "less_than": Operator.LT,
    "less_than_or_equal": Operator.LTE,
    "less_or_equal": Operator.LTE,
    "in": Operator.IN_LIST,
    "not_in": Operator.NOT_IN_LIST,
    "empty": Operator.IS_EMPTY,
    "not_empty": Operator.IS_NOT_EMPTY,
    "exists": Operator.IS_NOT_EMPTY,
    "not_exists": Operator.IS_EMPTY,
    "true": Operator.IS_TRUE,
    "false": Operator.IS_FALSE,
    "equal": Operator.EQUALS,
    "is": Operator.EQUALS,
    "is_not": Operator.NOT_EQUALS,
    "in_the_last_days": Operator.IN_LAST_DAYS,
    "not_contain": Operator.NOT_CONTAINS,
}


class LegacyConversionError(ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))
        self.errors = errors  # (JSON path, message)


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"[\s-]+", "_", name).lower()


def operator(raw: object) -> Operator:
    name = _snake(str(raw))
    try:
        return Operator(name)
    except ValueError:
        if name in OPERATOR_ALIASES:
            return OPERATOR_ALIASES[name]
        raise


def _window(raw: Any) -> dict[str, Any] | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise ValueError("expected an object with a type")  # noqa: TRY004 - a reported error
    kind = raw.get("type")
    if kind in (None, "lifetime-of-the-object", "lifetime"):
        return {"kind": "lifetime"}
    if kind == "previous-period":
        return {"kind": "previous_days", "days": raw.get("numberOfDaysPrevious")}
    if kind == "specific-date-range":
        return {"kind": "range", "start": raw.get("startDate"), "end": raw.get("endDate")}
    raise ValueError(f"unknown dateRangeFilter type {kind!r}")


def _field(cond: dict[str, Any]) -> str:
    key = str(cond.get("key") or "")
    if cond.get("type") == "custom" and not key.startswith("cf_"):
        key = f"cf_{_snake(key)}"
    if cond.get("subKey"):
        raise ValueError("nested properties (subKey) are not in the catalog")
    return key


def _condition(focus: str, cond: dict[str, Any]) -> dict[str, Any]:
    op = operator(cond.get("condition", "equals")).value
    value = cond.get("value")
    if focus == "property":
        return {"type": "property", "field": _field(cond), "operator": op, "value": value}
    if focus == "metric":
        return {"type": "metric", "metric": cond.get("key"), "operator": op, "value": value}
    if focus == "relationship":
        return {"type": "relationship", "relation": cond.get("key"), "operator": op, "value": value}
    if focus in EVENT_FOCUS:
        filters = []
        if cond.get("property"):
            filters.append(
                {"type": "property", "field": cond["property"], "operator": op, "value": value}
            )
        name = cond.get("id") or cond.get("key")
        return {
            "type": "event",
            "event": EVENT_FOCUS[focus],
            "name": name,
            "filters": filters,
            "operator": "gte",
            "value": 1,
        }
    raise ValueError(f"unknown conditionFocus {focus!r}")


def _fold(items: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Left to right: each item joins what came before with its conjunction."""
    current: dict[str, Any] = items[0][1]
    for conj, item in items[1:]:
        if (
            current.get("type") == "group"
            and current.get("combinator") == conj
            and not current.get("negate")
            and "window" not in current
        ):
            current = {**current, "rules": [*current["rules"], item]}
        else:
            current = {"type": "group", "combinator": conj, "rules": [current, item]}
    return (
        current
        if current.get("type") == "group"
        else {"type": "group", "combinator": "and", "rules": [current]}
    )


MAX_GROUP_KEY_DIGITS = 4


def _group(index: int, raw: dict[str, Any], errors: list[tuple[str, str]]) -> tuple[str, Any]:
    path = f"ruleGroups[{index}]"
    focus = str(raw.get("conditionFocus", "property"))
    group_conj = str(raw.get("conjunction", "and")).lower()
    conditions: list[tuple[str, dict[str, Any]]] = []
    numbered = [k for k in raw if re.fullmatch(r"g\d+", k)]
    for key in numbered:
        if len(key) > MAX_GROUP_KEY_DIGITS + 1:
            errors.append((f"{path}.{key[:12]}…", "condition keys are g0 to g9999"))
    keys = sorted(
        (k for k in numbered if len(k) <= MAX_GROUP_KEY_DIGITS + 1), key=lambda k: int(k[1:])
    )
    for key in keys:
        cond = raw[key]
        if not isinstance(cond, dict):
            errors.append((f"{path}.{key}", "expected an object with key, condition and value"))
            continue
        try:
            conj = str(cond.get("conjunction") or group_conj).lower() if conditions else group_conj
            conditions.append((conj, _condition(focus, cond)))
        except ValueError as exc:
            errors.append((f"{path}.{key}", str(exc)))
    parts: list[dict[str, Any]] = []
    if raw.get("embeddedSegmentId"):
        parts.append({"type": "segment", "segment_id": raw["embeddedSegmentId"]})
    if conditions:
        parts.append(_fold(conditions))
    if not parts:
        if not keys:  # a condition that failed has already said so
            errors.append((path, "a rule group needs conditions or an embedded segment"))
        return "", None
    group: dict[str, Any] = (
        parts[0] if len(parts) == 1 else {"type": "group", "combinator": "and", "rules": parts}
    )
    if group.get("type") != "group":
        group = {"type": "group", "combinator": "and", "rules": [group]}
    try:
        window = _window(raw.get("dateRangeFilter"))
    except ValueError as exc:
        errors.append((f"{path}.dateRangeFilter", str(exc)))
        window = None
    group = {
        **group,
        "negate": raw.get("mainOperator", "include") == "exclude",
        **({"window": window} if window else {}),
    }
    obj = OBJECTS.get(str(raw.get("segmentObject", "")))
    if obj is None:
        errors.append((f"{path}.segmentObject", f"unknown object {raw.get('segmentObject')!r}"))
        return "", None
    return obj, group


def from_legacy(payload: dict[str, Any] | list[Any]) -> RuleSet:
    """Convert; every problem is reported at once, each with its path."""
    raw_groups = payload if isinstance(payload, list) else payload.get("ruleGroups")
    top = "and" if isinstance(payload, list) else str(payload.get("conjunction", "and")).lower()
    if not isinstance(raw_groups, list) or not raw_groups:
        raise LegacyConversionError([("ruleGroups", "expected a non-empty list of rule groups")])
    errors: list[tuple[str, str]] = []
    converted = [
        _group(i, g if isinstance(g, dict) else {}, errors) for i, g in enumerate(raw_groups)
    ]
    objects = {obj for obj, _ in converted if obj}
    if len(objects) > 1:
        errors.append(
            ("ruleGroups", f"all groups must share one segmentObject, got {sorted(objects)}")
        )
    if errors:
        raise LegacyConversionError(errors)
    root = {"type": "group", "combinator": top, "rules": [g for _, g in converted]}
    try:
        return RuleSet.model_validate({"object": objects.pop(), "root": root})
    except ValidationError as exc:
        raise LegacyConversionError(
            [("ruleGroups", f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()]
        ) from exc

"""The compiler's golden inputs: rule trees with the predicate and parameters they
compile to (test_golden.py) and which the BigQuery analyzer check also runs."""

from __future__ import annotations

from typing import Any


def prop(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"type": "property", "field": field, "operator": operator, "value": value}


def rules(
    *conditions: dict[str, Any], combinator: str = "and", negate: bool = False
) -> dict[str, Any]:
    return {"type": "group", "combinator": combinator, "negate": negate, "rules": list(conditions)}


C = "COALESCE"
CASES: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    (rules(prop("age", "gt", 30)), f"{C}(`t`.`age` > @p0, FALSE)", {"p0": 30}),
    (
        rules(prop("city", "equals", "Jakarta")),
        f"{C}(LOWER(`t`.`city`) = @p0, FALSE)",
        {"p0": "jakarta"},
    ),
    (
        rules(prop("city", "not_equals", "Jakarta")),
        f"NOT {C}(LOWER(`t`.`city`) = @p0, FALSE)",
        {"p0": "jakarta"},
    ),
    (
        rules(prop("email", "contains", "50%_off")),
        f"{C}(INSTR(LOWER(`t`.`email`), @p0) > 0, FALSE)",
        {"p0": "50%_off"},
    ),
    (
        rules(prop("email", "ends_with", "@Example.com")),
        f"{C}(ENDS_WITH(LOWER(`t`.`email`), @p0), FALSE)",
        {"p0": "@example.com"},
    ),
    (
        rules(prop("source", "in_list", ["website", "import"])),
        f"{C}(LOWER(`t`.`source`) IN UNNEST(@p0), FALSE)",
        {"p0": ["website", "import"]},
    ),
    (rules(prop("city", "is_empty")), f"{C}((`t`.`city` IS NULL OR `t`.`city` = ''), FALSE)", {}),
    (
        rules(prop("lifetime_value", "between", [10, 20.5])),
        f"{C}(`t`.`lifetime_value` BETWEEN @p0 AND @p1, FALSE)",
        {"p0": 10, "p1": 20.5},
    ),
    # Lists are bound as the column's type: BigQuery has no IN UNNEST for FLOAT64 against
    # ARRAY<INT64>, nor for INT64 against ARRAY<FLOAT64>.
    (
        rules(prop("lifetime_value", "in_list", [1, 2])),
        f"{C}(`t`.`lifetime_value` IN UNNEST(@p0), FALSE)",
        {"p0": [1.0, 2.0]},
    ),
    (
        rules(prop("age", "in_list", [30.0, 31])),
        f"{C}(`t`.`age` IN UNNEST(@p0), FALSE)",
        {"p0": [30, 31]},
    ),
    (
        rules(prop("age", "not_in_list", [30, 31.5])),
        f"NOT {C}(CAST(`t`.`age` AS FLOAT64) IN UNNEST(@p0), FALSE)",
        {"p0": [30.0, 31.5]},
    ),
    (rules(prop("age", "is_not_empty")), f"NOT {C}(`t`.`age` IS NULL, FALSE)", {}),
    (
        rules(prop("created_on", "in_last_days", 30)),
        f"{C}(`t`.`created_on` BETWEEN DATE_SUB(@build_date, INTERVAL (@p0) DAY)"
        " AND @build_date, FALSE)",
        {"p0": 30},
    ),
    (
        rules(prop("created_on", "more_than_days_ago", 90)),
        f"{C}(`t`.`created_on` < DATE_SUB(@build_date, INTERVAL (@p0) DAY), FALSE)",
        {"p0": 90},
    ),
    (rules(prop("is_vip", "is_true")), f"{C}(`t`.`is_vip` IS TRUE, FALSE)", {}),
    (
        rules(prop("age", "gt", 30), prop("age", "lt", 40), combinator="or"),
        f"({C}(`t`.`age` > @p0, FALSE) OR {C}(`t`.`age` < @p1, FALSE))",
        {"p0": 30, "p1": 40},
    ),
    (
        rules(prop("age", "gt", 30), rules(prop("is_vip", "is_true"), negate=True)),
        f"({C}(`t`.`age` > @p0, FALSE) AND NOT {C}(`t`.`is_vip` IS TRUE, FALSE))",
        {"p0": 30},
    ),
]

FROM = "FROM `proj`.`acct_1`.`customers` AS t"
SELECT = "SELECT DISTINCT `t`.`customer_id` AS `object_id`"

# Aggregates: a CTE per condition, grouped by the relation key, LEFT JOINed to the row.
AGGREGATE_CASES: list[tuple[dict[str, Any], str]] = [
    (
        rules({"type": "metric", "metric": "total_spent", "operator": "gte", "value": 100}),
        "WITH a0 AS (SELECT `r`.`customer_id` AS `k`, SUM(`r`.`amount`) AS `v` "
        "FROM `proj`.`acct_1`.`orders` AS r GROUP BY `r`.`customer_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`customer_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) >= @p0, FALSE)",
    ),
    (
        rules(
            {
                "type": "event",
                "event": "web_conversion",
                "name": "signup",
                "operator": "did_not_perform",
                "window": {"kind": "previous_days", "days": 30},
            }
        ),
        "WITH a0 AS (SELECT `r`.`customer_id` AS `k`, COUNT(*) AS `v` "
        "FROM `proj`.`acct_1`.`customer_events` AS r WHERE `r`.`event_date` BETWEEN "
        "DATE_SUB(@build_date, INTERVAL (@p0) DAY) AND DATE_SUB(@build_date, INTERVAL 1 DAY) "
        "AND COALESCE(LOWER(`r`.`kind`) = @p1, FALSE) "
        "AND COALESCE(LOWER(`r`.`event_name`) = @p2, FALSE) GROUP BY `r`.`customer_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`customer_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) = 0, FALSE)",
    ),
    (
        rules(
            {
                "type": "relationship",
                "relation": "company",
                "operator": "gte",
                "value": 1,
                "filters": [prop("industry", "equals", "tech")],
            }
        ),
        "WITH a0 AS (SELECT `r`.`company_id` AS `k`, COUNT(*) AS `v` "
        "FROM `proj`.`acct_1`.`companies` AS r WHERE COALESCE(LOWER(`r`.`industry`) = @p0, FALSE) "
        "GROUP BY `r`.`company_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`company_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) >= @p1, FALSE)",
    ),
    (
        rules(
            {
                "type": "segment",
                "segment_id": "00000000-0000-4000-8000-00000000000a",
                "operator": "not_in",
            }
        ),
        f"{SELECT} {FROM} LEFT JOIN (SELECT DISTINCT `object_id` FROM "
        "`proj`.`acct_1`.`segment_0000000000004000800000000000000a`) AS s0 "
        "ON `s0`.`object_id` = `t`.`customer_id` WHERE `s0`.`object_id` IS NULL",
    ),
    (
        rules(prop("tags", "contains_any", ["VIP", "b2b"])),
        # a multi-select is counted in a grouped CTE joined by id, not a subquery per row;
        # its elements are unnested in a subquery and filtered outside it
        "WITH m0 AS (SELECT `u`.`k` AS `k`, COUNT(*) AS `v` "
        "FROM (SELECT `r`.`customer_id` AS `k`, x FROM `proj`.`acct_1`.`customers` AS r, "
        "UNNEST(`r`.`tags`) AS x) AS u "
        "WHERE LOWER(u.x) IN UNNEST(@p0) GROUP BY `u`.`k`) "
        f"{SELECT} {FROM} LEFT JOIN m0 ON `m0`.`k` = `t`.`customer_id` "
        "WHERE COALESCE(COALESCE(`m0`.`v`, 0) > 0, FALSE)",
    ),
]


def _events(name: str | None = "purchase", **kw: Any) -> dict[str, Any]:
    return {"event": "ecommerce", "name": name, **kw}


_SHOE = [prop("product", "contains", "shoe")]
_LAST_30 = {"kind": "previous_days", "days": 30}
_Q1 = {"kind": "range", "start": "2026-01-01", "end": "2026-03-31"}
# Every behaviour condition kind with each of its options: the analyzer checks each of
# the statements made of it (build, preview, counts, diff, samples).
BEHAVIOUR_CASES: list[dict[str, Any]] = [
    rules(
        {
            "type": "sequence",
            "steps": [_events("add_to_cart"), _events("checkout", within_days=2)],
            "then_not": _events("purchase", within_days=2),
            "window": _LAST_30,
        }
    ),
    rules(
        {
            "type": "sequence",
            "steps": [
                _events("download", filters=_SHOE),
                _events(None),
                _events("checkout", within_days=3),
                _events("purchase"),
                _events("purchase", within_days=1),
            ],
            "total_within_days": 14,
            "window": _Q1,
        }
    ),
    rules({"type": "sequence", "steps": [_events(), _events()]}, combinator="or", negate=True),
    rules({"type": "occurrence", "which": "first", **_events(), "window": _LAST_30}),
    rules(
        {
            "type": "occurrence",
            "which": "last",
            **_events(None, filters=_SHOE),
            "window": _Q1,
            "where": [prop("product", "equals", "promo"), prop("value", "gt", 10)],
        }
    ),
    rules({"type": "stopped", **_events(), "at_least": 2, "base_days": 90, "recent_days": 60}),
    rules({"type": "restarted", **_events(), "gap_days": 90, "window": _LAST_30}),
    rules({"type": "restarted", **_events(None, filters=_SHOE), "gap_days": 7}),
    *(
        rules({"type": "regularly", **_events(), "period": p, "at_least": 2, "of_last": 4})
        for p in ("day", "week", "month")
    ),
]

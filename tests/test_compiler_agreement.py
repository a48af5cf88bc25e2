"""The compiler's proof: on the emulator, for random rule trees, the built table, the
preview's counts and an independent Python evaluator agree exactly."""

from __future__ import annotations

from agreement import BUILD_DATE, OBJECTS, Warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import statements
from compiler.sql import CompiledQuery
from compiler.typed import check
from contracts.rules import RuleSet
from contracts.warehouse import MEMBER_ID_COLUMN, segment_table
from rule_strategies import RuleSpace
from segment_api.shared import member_queries


def space(wh: Warehouse) -> RuleSpace:
    by_object = {"customer": list(wh.segments)}
    return RuleSpace(wh.catalog, wh.tables, BUILD_DATE, by_object)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_table_preview_and_evaluator_agree(warehouse, data):
    obj = warehouse.catalog.objects[data.draw(st.sampled_from(OBJECTS), label="object")]
    raw = data.draw(space(warehouse).rule_set(obj), label="rules")
    rule_set = RuleSet.model_validate(raw)
    assert check(rule_set, warehouse.catalog) == []

    expected = warehouse.evaluator().members(rule_set)
    m = statements.membership(rule_set, warehouse.target, warehouse.catalog)
    # The edit diff, against the object's last built tree (an earlier example's): who
    # would enter and exit if this tree replaced it.
    table = f"segment_under_test_{obj.name}"
    previous = warehouse.built.get(obj.name)
    if previous is not None:
        (diff,) = warehouse.run(statements.edit_diff(m, table))
        assert (diff["would_enter"], diff["would_exit"]) == (
            len(expected - previous),
            len(previous - expected),
        )
    built = warehouse.build(rule_set, table)
    assert built == expected
    warehouse.built[obj.name] = built

    preview = warehouse.run(statements.preview(m))[0]
    assert preview["matched"] == len(expected)
    assert preview["total"] == len(warehouse.tables[obj.table])
    node_counts = warehouse.evaluator().node_counts(rule_set)
    got = {path: preview[f"n{i}"] for i, path in enumerate(statements.preview(m).node_paths)}
    assert got == node_counts

    # Explain: for a few members and non-members, the root's verdict is table membership
    # and each node's is the object's membership of that node's own count.
    ids = sorted(r[obj.id_column] for r in warehouse.tables[obj.table])
    inside = sorted(built)[:3]
    outside = [i for i in ids if i not in built][:3]
    explained = statements.explain(m)
    for object_id in inside + outside:
        (row,) = warehouse.run(explained, member_id=str(object_id))
        verdicts = {path: row[f"n{i}"] for i, path in enumerate(explained.node_paths)}
        assert verdicts["rules.root"] == (object_id in built)
        assert verdicts == warehouse.evaluator().node_verdicts(rule_set, object_id)


def test_the_sample_shows_members_in_id_order(warehouse):
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
            },
        }
    )
    m = statements.membership(rs, warehouse.target, warehouse.catalog)
    rows = warehouse.run(statements.sample(m), sample_limit=5)
    expected = sorted(warehouse.evaluator().members(rs))[:5]
    assert [r[MEMBER_ID_COLUMN] for r in rows] == expected
    assert {"full_name", "email", "phone", "city"} <= rows[0].keys()


def test_the_edit_diff_counts_who_would_enter_and_exit(warehouse):
    current = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "between", "value": [20, 50]}
                ],
            },
        }
    )
    edited = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "between", "value": [35, 70]}
                ],
            },
        }
    )
    before = warehouse.build(current, "segment_edit")
    after = warehouse.evaluator().members(edited)
    m = statements.membership(edited, warehouse.target, warehouse.catalog)
    (diff,) = warehouse.run(statements.edit_diff(m, "segment_edit"))
    assert (diff["would_enter"], diff["would_exit"]) == (len(after - before), len(before - after))
    assert diff["would_enter"] and diff["would_exit"]


def test_a_report_filter_keeps_the_members_rows(warehouse):
    segment_id, members = next(iter(warehouse.segments.items()))
    f = member_queries.report_filter(
        warehouse.target, segment_table(segment_id), "o", "customer_id"
    )
    orders = warehouse.target.name("orders")
    sql = (
        f"WITH {f.cte_name} AS ({f.cte_sql}) SELECT COUNT(*) AS n "
        f"FROM `{orders}` AS o WHERE {f.predicate_sql}"
    )
    (row,) = warehouse.run(CompiledQuery(sql, {}))
    assert row["n"] == sum(1 for o in warehouse.tables["orders"] if o["customer_id"] in members)

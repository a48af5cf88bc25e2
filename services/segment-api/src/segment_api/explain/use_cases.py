"""Explain one member: the rule tree with every node's verdict for that member and the
value that decided each condition, computed by the compiled predicates the build and
the node counts use (`statements.explain`), so it can never disagree with them. For a
saved segment it also says whether the member is in the built table and, when the live
rules disagree with the last build, why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.typed import TypedRuleSet
from contracts.rules import RuleSet
from contracts.warehouse import segment_table
from segment_api.explain.schemas import ExplainOut, ExplainRequest, NodeVerdict
from segment_api.http.problems import ProblemError, field_problem
from segment_api.segments import rule_input
from segment_api.segments.schemas import RulesInput
from segment_api.shared import member_queries
from segment_api.shared.policy import require_scope
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import Principal, Scope
from segment_runtime.db import Pool


def _unknown(member_id: str) -> ProblemError:
    message = f"no object with id {member_id[:80]!r}"
    return field_problem(404, "not_found", "Unknown member", message, "member_id")


class Explanations:
    def __init__(self, pool: Pool, reads: WarehouseReads) -> None:
        self._pool = pool
        self._reads = reads

    async def _verdicts(
        self, principal: Principal, typed: TypedRuleSet, member_id: str
    ) -> tuple[bool, list[NodeVerdict]]:
        m = statements.membership(typed, self._reads.target(principal.account_id))
        query = statements.explain(m)
        today = await self._reads.today(principal.account_id)
        rows = await self._reads.run(query, today, member_id=member_id)
        if not rows:
            raise _unknown(member_id)
        row: dict[str, Any] = jsonable_encoder(rows[0])
        values = {path: row[f"v{j}"] for j, path in enumerate(query.value_paths)}
        nodes = [
            NodeVerdict(path=path, matched=bool(row[f"n{i}"]), value=values.get(path))
            for i, path in enumerate(query.node_paths)
        ]
        # The root comes last among the nodes; shown first, as the tree reads.
        nodes.sort(key=lambda n: (n.path != typed.root.path, n.path))
        return nodes[0].matched, nodes

    async def _typed(
        self, principal: Principal, body: RulesInput, segment_id: UUID | None
    ) -> TypedRuleSet:
        async with self._pool.acquire() as conn:
            return (await rule_input.checked(conn, principal, body, segment_id=segment_id)).typed

    async def unsaved(self, principal: Principal, body: ExplainRequest) -> ExplainOut:
        require_scope(principal, Scope.VIEW)
        typed = await self._typed(principal, body, None)
        now, nodes = await self._verdicts(principal, typed, body.member_id)
        return ExplainOut(
            segment_id=None,
            member_id=body.member_id,
            matches_now=now,
            in_table=None,
            agrees=None,
            nodes=nodes,
        )

    async def saved(self, principal: Principal, row: SegmentRow, member_id: str) -> ExplainOut:
        if row.rules is None:  # All Data: every object is a member
            return ExplainOut(
                segment_id=row.id,
                member_id=member_id,
                matches_now=True,
                in_table=None,
                agrees=None,
                nodes=[],
            )
        body = RulesInput(rules=RuleSet.model_validate(row.rules))
        typed = await self._typed(principal, body, row.id)
        now, nodes = await self._verdicts(principal, typed, member_id)
        in_table = None
        if row.built_at is not None:
            target = self._reads.target(principal.account_id)
            query = member_queries.holds(target, segment_table(row.id))
            in_table = bool((await self._reads.run(query, None, member_id=member_id))[0]["held"])
        agrees = None if in_table is None else in_table == now
        return ExplainOut(
            segment_id=row.id,
            member_id=member_id,
            matches_now=now,
            in_table=in_table,
            agrees=agrees,
            reason=_why(row, now, in_table),
            nodes=nodes,
        )


_IN_FLIGHT = ("requested", "submitted", "running")


def _why(row: SegmentRow, now: bool, in_table: bool | None) -> str | None:
    if in_table is None:
        return "the segment has not been built yet"
    if in_table == now:
        return None
    if row.build_rules_version is not None and row.build_rules_version < row.rules_version:
        return (
            "the rules changed and their build has not run yet:"
            " the table still holds the last build's members"
        )
    if row.build_state in _IN_FLIGHT:
        return "a build is under way: the table still holds the last build's members"
    if row.build_state in ("failed", "skipped", "canceled") and row.build_rules_version == (
        row.rules_version
    ):
        return f"the last build ({row.build_state}) did not replace the table: {row.build_reason}"
    built = row.built_at.strftime("%Y-%m-%d %H:%M UTC") if row.built_at else "its last build"
    side = "matches now but was not" if now else "no longer matches but was"
    return f"the data changed since the last build ({built}): the member {side} in it then"

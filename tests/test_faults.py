"""Faults on a stack of its own: a broker that restarts empty, services killed with -9.

The local broker keeps everything in memory, so its restart loses every message
and committed offset. Whatever is lost must be re-driven from Postgres (the
outbox, the reconciler) and every build must still end, once, with members that
match a fresh preview. Bounded in time: each wait has a deadline.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from e2e import api, create, wait_for
from e2e import older_than as rules

pytestmark = pytest.mark.stack

SERVICES = ("segment-api", "compiler", "job-monitor", "scheduler", "notifier")


async def built(stack, segment_id: str) -> bool:
    response = await api(stack, "GET", f"/v1/segments/{segment_id}")
    return response.status_code == 200 and response.json()["build_status"] == "done"


async def test_a_change_made_while_the_broker_is_down_is_built_once_it_is_back(fault_stack):
    stack = fault_stack
    stack.kill("kafka")
    segment = await create(stack, f"While down {uuid4().hex[:6]}", rules(33))
    stack.restart("kafka")
    await wait_or_tell(stack, lambda: built(stack, segment["id"]), 90)
    later = await create(stack, f"After {uuid4().hex[:6]}", rules(44))
    await wait_or_tell(stack, lambda: built(stack, later["id"]), 90)


async def wait_or_tell(stack, check, timeout_s: float) -> None:
    try:
        await wait_for(check, timeout_s=timeout_s)
    except TimeoutError:
        pytest.fail(f"not within {timeout_s} s; the stack's logs:\n{stack.dump_logs(60)}")


def member_of(segment: dict[str, Any]) -> dict[str, Any]:
    return {"type": "segment", "segment_id": segment["id"]}


async def test_killing_each_service_and_restarting_the_broker_during_a_run_loses_nothing(
    fault_stack,
):
    stack = fault_stack
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    tag = uuid4().hex[:6]
    base = await create(stack, f"Base {tag}", rules(30))
    left = await create(stack, f"Left {tag}", group([member_of(base), prop("is_vip", "is_true")]))
    right = await create(stack, f"Right {tag}", group([member_of(base), prop("age", "lt", 60)]))
    top = await create(stack, f"Top {tag}", group([member_of(left), member_of(right)], "or"))
    singles = [await create(stack, f"Single {i} {tag}", rules(20 + 5 * i)) for i in range(4)]
    everything = [base, left, right, top, *singles]
    await wait_for(lambda: all_done(stack, everything), timeout_s=120)

    stack.set_default_fault(duration_s=0.5, jitter_s=0.5)
    run = (await api(stack, "POST", "/v1/segments/refresh-all")).json()
    victims = [*SERVICES, "kafka"]
    rng.shuffle(victims)
    for victim in victims:
        await asyncio.sleep(rng.uniform(0.1, 1.2))
        stack.kill(victim)
        await asyncio.sleep(rng.uniform(0.0, 0.6))
        stack.restart(victim)
    await asyncio.to_thread(stack.wait_healthy)

    conn = await asyncpg.connect(stack.cfg.database_url)
    try:

        async def nothing_open() -> bool:
            return not await conn.fetchval(
                "SELECT count(*) FROM builds WHERE account_id = $1"
                " AND state IN ('requested', 'submitted', 'running')",
                stack.account_id,
            )

        try:
            await wait_for(nothing_open, timeout_s=150)
        except TimeoutError:
            pytest.fail(f"builds left open (seed {seed}, {victims}):\n{stack.dump_logs(40)}")
        run_builds = await conn.fetch(
            "SELECT segment_id, state, reason FROM builds WHERE run_id = $1", UUID(run["run_id"])
        )
        run_state = await conn.fetchval(
            "SELECT state FROM refresh_runs WHERE id = $1", UUID(run["run_id"])
        )
    finally:
        await conn.close()
    stack.reset_faults()

    per_segment: dict[UUID, int] = {}
    for b in run_builds:
        per_segment[b["segment_id"]] = per_segment.get(b["segment_id"], 0) + 1
    assert {str(s) for s in per_segment} >= {s["id"] for s in everything}, f"seed {seed}"
    assert set(per_segment.values()) == {1}, f"a build ran twice for the run (seed {seed})"
    assert run_state == "finished"
    assert {b["state"] for b in run_builds} == {"done"}, (
        f"seed {seed}, killed in order {victims}: {[dict(b) for b in run_builds]}\n"
        + stack.dump_logs(40)
    )
    for segment in everything:
        shown = (await api(stack, "GET", f"/v1/segments/{segment['id']}")).json()
        preview = (
            await api(stack, "POST", "/v1/segments/preview", json={"rules": segment["rules"]})
        ).json()
        assert shown["member_count"] == preview["total_matched"], (segment["name"], seed)


def group(rules_: list[dict[str, Any]], combinator: str = "and") -> dict[str, Any]:
    return {
        "object": "customer",
        "root": {"type": "group", "combinator": combinator, "rules": rules_},
    }


def prop(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": "property", "field": field, "operator": operator}
    if value is not None:
        rule["value"] = value
    return rule


async def all_done(stack, segments: list[dict[str, Any]]) -> bool:
    for segment in segments:
        if not await built(stack, segment["id"]):
            return False
    return True


async def open_builds(stack, conn: asyncpg.Connection) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM builds WHERE account_id = $1"
            " AND state IN ('requested', 'submitted', 'running')",
            stack.account_id,
        )
    )


async def test_lost_and_failed_jobs_then_every_segments_log_adds_up(fault_stack):
    """A job the warehouse loses, one it fails (the slow warehouse applies the statement
    before failing it, as a worst case), then a clean refresh. Ends with the invariant of
    the membership log: for every segment of the account (from the tests above too, kill
    -9 and broker restarts included), entered minus exited over all its builds is its
    member table's size, and the log holds one open interval per member, nothing else."""
    stack = fault_stack
    tag = uuid4().hex[:6]
    lost = await create(stack, f"Lost {tag}", rules(35))
    failed = await create(stack, f"Failed {tag}", rules(50))
    await wait_for(lambda: all_done(stack, [lost, failed]), timeout_s=120)
    stack.set_fault(lost["id"], outcome="lose")
    stack.set_fault(failed["id"], outcome="fail", error="backendError: injected")
    edited = {lost["id"]: rules(25), failed["id"]: rules(60)}
    for segment_id, new_rules in edited.items():
        response = await api(
            stack, "PATCH", f"/v1/segments/{segment_id}", json={"rules": new_rules}
        )
        assert response.status_code == 200, response.text
    conn = await asyncpg.connect(stack.cfg.database_url)
    try:

        async def ended_badly() -> bool:
            states = await conn.fetch(
                "SELECT DISTINCT ON (segment_id) state FROM builds WHERE segment_id = ANY($1)"
                " ORDER BY segment_id, requested_at DESC",
                [UUID(s) for s in edited],
            )
            return {r["state"] for r in states} == {"failed"}

        await wait_or_tell(stack, ended_badly, 120)
        stack.reset_faults()
        run = (await api(stack, "POST", "/v1/segments/refresh-all")).json()

        async def run_finished() -> bool:
            shown = await api(stack, "GET", f"/v1/refresh-runs/{run['run_id']}")
            return shown.status_code == 200 and shown.json()["state"] == "finished"

        # the run's end, not merely nothing open: the run may not have started yet
        await wait_or_tell(stack, run_finished, 150)
        await wait_or_tell(stack, lambda: not_open(stack, conn), 150)
        segments = await conn.fetch(
            "SELECT s.id, coalesce(sum(b.entered), 0) - coalesce(sum(b.exited), 0) AS net,"
            " count(b.id) FILTER (WHERE b.state = 'done') AS done"
            " FROM segments s LEFT JOIN builds b ON b.segment_id = s.id"
            " WHERE s.account_id = $1 GROUP BY s.id",
            stack.account_id,
        )
    finally:
        await conn.close()
    assert len(segments) >= 10  # this test's and those of the tests before it
    client = stack.bigquery()
    dataset = f"{client.project}.acct_{stack.account_id.hex}"
    for s in segments:
        if not s["done"]:
            continue
        table = f"{dataset}.segment_{s['id'].hex}"
        (row,) = client.query(
            f"SELECT (SELECT COUNT(*) FROM `{table}`) AS members,"
            f" (SELECT COUNT(*) FROM `{table}_log` WHERE exited_at IS NULL) AS open,"
            f" (SELECT COUNT(DISTINCT object_id) FROM `{table}_log` WHERE exited_at IS NULL)"
            " AS open_ids"
        ).result()
        assert (row["members"], row["open"], row["open_ids"]) == (s["net"],) * 3, dict(s)


async def not_open(stack, conn: asyncpg.Connection) -> bool:
    return await open_builds(stack, conn) == 0

"""Builds on the real stack, with a warehouse whose jobs take time and can fail.

Every service runs as its real process; BigQuery is the emulator behind the slow
warehouse (devstack.slow_warehouse), which gives jobs durations, injects
failures and records when each job started and ended, so the order the
scheduler chose is visible from the warehouse's side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from google.api_core.exceptions import NotFound

from contracts.warehouse import dataset_id, segment_table
from e2e import api, create, recording_pushes, wait_for

pytestmark = pytest.mark.stack
JOB_S = 0.6


def group(*rules: dict[str, Any], combinator: str = "and") -> dict[str, Any]:
    return {
        "object": "customer",
        "root": {"type": "group", "combinator": combinator, "rules": list(rules)},
    }


def member_of(segment: dict[str, Any]) -> dict[str, Any]:
    return {"type": "segment", "segment_id": segment["id"]}


def prop(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": "property", "field": field, "operator": operator}
    if value is not None:
        rule["value"] = value
    return rule


async def latest_build(stack, segment: dict[str, Any]) -> dict[str, Any] | None:
    builds = (await api(stack, "GET", f"/v1/segments/{segment['id']}/builds")).json()
    return builds[0] if builds else None


async def settled(stack, *segments: dict[str, Any]) -> None:
    """Wait until no build of these segments is open."""

    async def check() -> bool:
        for s in segments:
            build = await latest_build(stack, s)
            if build is None or build["state"] in ("requested", "submitted", "running"):
                return False
        return True

    await wait_for(check)


async def diamond(stack) -> dict[str, dict[str, Any]]:
    """D embeds B and C; both embed E."""
    tag = uuid4().hex[:6]
    e = await create(stack, f"E {tag}", group(prop("age", "gte", 40)))
    b = await create(stack, f"B {tag}", group(member_of(e), prop("city", "equals", "Jakarta")))
    c = await create(stack, f"C {tag}", group(member_of(e), prop("is_vip", "is_true")))
    d = await create(stack, f"D {tag}", group(member_of(b), member_of(c), combinator="or"))
    graph = {"E": e, "B": b, "C": c, "D": d}
    await settled(stack, *graph.values())
    return graph


def timeline(stack, segment: dict[str, Any], before: set[str]) -> list[dict[str, Any]]:
    """The segment's jobs, leaving out those that ran before (`before` holds their ids)."""
    return [j for j in stack.warehouse_jobs(segment["id"]) if j["job_id"] not in before]


async def preview_count(stack, segment: dict[str, Any]) -> int:
    body = (
        await api(stack, "POST", "/v1/segments/preview", json={"rules": segment["rules"]})
    ).json()
    return int(body["total_matched"])


@pytest.fixture
def faults(stack):
    yield stack
    stack.reset_faults()


async def test_a_cascade_through_a_diamond_builds_each_ancestor_once_after_its_children(faults):
    stack = faults
    g = await diamond(stack)
    for s in g.values():
        stack.set_fault(s["id"], duration_s=JOB_S)
    before = {j["job_id"] for j in stack.warehouse_jobs()}
    d_before = (await latest_build(stack, g["D"]))["id"]
    rebuilt = await api(stack, "POST", f"/v1/segments/{g['E']['id']}/rebuild")
    assert rebuilt.status_code == 202

    async def d_rebuilt() -> bool:
        build = await latest_build(stack, g["D"])
        return bool(build and build["id"] != d_before and build["state"] == "done")

    await wait_for(d_rebuilt)
    jobs = {name: timeline(stack, s, before) for name, s in g.items()}
    assert {name: len(js) for name, js in jobs.items()} == {"E": 1, "B": 1, "C": 1, "D": 1}
    start = {n: datetime.fromisoformat(js[0]["started_at"]) for n, js in jobs.items()}
    end = {n: datetime.fromisoformat(js[0]["ended_at"]) for n, js in jobs.items()}
    assert start["B"] >= end["E"] and start["C"] >= end["E"]
    assert start["D"] >= max(end["B"], end["C"])  # after all of its children, once
    d_build = await latest_build(stack, g["D"])
    assert d_build["cause"] == "cascade"
    assert d_build["origin_segment_id"] == g["E"]["id"]  # the rebuild the cascade came from
    shown = (await api(stack, "GET", f"/v1/segments/{g['D']['id']}")).json()
    assert shown["member_count"] == await preview_count(stack, g["D"])


async def test_a_refresh_run_skips_dependents_of_a_failure_while_others_complete(faults):
    stack = faults
    g = await diamond(stack)
    tag = uuid4().hex[:6]
    lost = await create(stack, f"Lost {tag}", group(prop("age", "lt", 25)))
    fine = await create(stack, f"Fine {tag}", group(prop("age", "gte", 25)))
    await settled(stack, lost, fine)
    stack.set_default_fault(duration_s=0.2)
    stack.set_fault(g["E"]["id"], duration_s=0.3, outcome="fail", error="Resources exceeded")
    stack.set_fault(lost["id"], outcome="lose")

    run = (await api(stack, "POST", "/v1/segments/refresh-all")).json()

    async def finished() -> dict[str, Any] | None:
        response = await api(stack, "GET", f"/v1/refresh-runs/{run['run_id']}")
        if response.status_code == 404:
            return None  # the scheduler has not started it yet
        body = response.json()
        return body if body["state"] == "finished" else None

    summary = await wait_for(finished)
    latest = {n: await latest_build(stack, s) for n, s in {**g, "Lost": lost, "Fine": fine}.items()}
    assert {n: b["run_id"] for n, b in latest.items()} == dict.fromkeys(latest, run["run_id"])
    assert (latest["E"]["state"], latest["E"]["reason"]) == ("failed", "Resources exceeded")
    assert latest["B"]["state"] == latest["C"]["state"] == latest["D"]["state"] == "skipped"
    assert latest["B"]["reason"] == f"dependency '{g['E']['name']}' failed"
    assert latest["D"]["reason"] in {f"dependency '{g[x]['name']}' was skipped" for x in ("B", "C")}
    assert (
        latest["Lost"]["state"] == "failed" and "not known to BigQuery" in latest["Lost"]["reason"]
    )
    assert latest["Fine"]["state"] == "done"
    assert summary["counts"]["failed"] >= 2 and summary["counts"]["skipped"] >= 3
    assert summary["total"] == sum(summary["counts"].values())
    shown = (await api(stack, "GET", f"/v1/segments/{g['D']['id']}")).json()
    assert shown["build_status"] == "skipped" and shown["last_error"] == latest["D"]["reason"]
    assert shown["member_count"] is not None  # the last good table is kept


async def test_two_edits_during_a_build_become_one_follow_up_and_every_state_is_pushed(
    faults, expected_members
):
    stack = faults
    # Long enough that, on a loaded machine too, the job is seen running and both edits
    # reach the scheduler before it ends.
    stack.set_default_fault(duration_s=4.0)
    async with recording_pushes(stack) as frames:
        s = await create(stack, f"Edited {uuid4().hex[:6]}", group(prop("age", "gt", 20)))
        await wait_for(lambda: any(f.get("state") == "running" for f in frames))
        for age in (30, 40):
            edited = await api(
                stack,
                "PATCH",
                f"/v1/segments/{s['id']}",
                json={"rules": group(prop("age", "gt", age))},
            )
            assert edited.status_code == 200
        await api(
            stack, "PATCH", f"/v1/segments/{s['id']}", json={"name": f"Renamed {uuid4().hex[:4]}"}
        )

        async def newest_built() -> bool:
            shown = (await api(stack, "GET", f"/v1/segments/{s['id']}")).json()
            return shown["build_status"] == "done" and shown["build"]["rules_version"] == 3

        await wait_for(newest_built)
        await wait_for(
            lambda: any(f.get("state") == "done" and f["rules_version"] == 3 for f in frames)
        )

    builds = (await api(stack, "GET", f"/v1/segments/{s['id']}/builds")).json()
    assert [(b["rules_version"], b["state"]) for b in reversed(builds)] == [
        (1, "done"),
        (3, "done"),
    ]
    assert len(stack.warehouse_jobs(s["id"])) == 2
    shown = (await api(stack, "GET", f"/v1/segments/{s['id']}")).json()
    assert shown["member_count"] == len(
        expected_members(lambda r: r["age"] is not None and r["age"] > 40)
    )

    mine = [f for f in frames if f["segment_id"] == s["id"]]
    first = [
        f["state"] for f in mine if f.get("event") == "segment.status" and f["rules_version"] == 1
    ]
    assert first == ["requested", "submitted", "running", "done"]
    changes = [f["change"] for f in mine if f.get("event") == "segment.changed"]
    assert changes == ["created", "updated", "updated", "updated"]  # the rename too


async def test_deleting_a_segment_while_it_builds_cancels_its_job(faults):
    stack = faults
    stack.set_default_fault(outcome="hang")
    s = await create(stack, f"Doomed {uuid4().hex[:6]}", group(prop("age", "gt", 50)))

    async def running() -> bool:
        build = await latest_build(stack, s)
        return bool(build and build["state"] == "running")

    await wait_for(running)
    assert (await api(stack, "DELETE", f"/v1/segments/{s['id']}")).status_code == 204
    await wait_for(lambda: any(j["canceled"] for j in stack.warehouse_jobs(s["id"])))
    conn = await asyncpg.connect(stack.cfg.database_url)
    try:
        state, reason = await conn.fetchrow(
            "SELECT state, reason FROM builds WHERE segment_id = $1", UUID(s["id"])
        )
    finally:
        await conn.close()
    assert (state, reason) == ("canceled", "segment deleted")
    dataset = f"{stack.cfg.bigquery_project}.{dataset_id(stack.account_id)}"
    table = f"{dataset}.{segment_table(UUID(s['id']))}"

    def table_gone() -> bool:
        try:
            stack.bigquery().get_table(table)
        except NotFound:
            return True
        return False

    await wait_for(table_gone)


async def test_a_build_waiting_on_a_slow_dependency_says_so_while_it_waits(faults):
    """The session stack notes a wait after 3 s (WAIT_QUEUED_S) and a job 3 times slower
    than its segment's recent builds once it has run 3 s: both are shown by the API and
    pushed while the builds wait, counted by a metric, and cleared by the next move."""
    stack = faults
    tag = uuid4().hex[:6]
    base = await create(stack, f"Slow base {tag}", group(prop("age", "gte", 30)))
    top = await create(stack, f"On top {tag}", group(member_of(base), prop("is_vip", "is_true")))
    await settled(stack, base, top)
    stack.set_fault(base["id"], duration_s=14.0)
    try:
        async with recording_pushes(stack) as frames:
            assert (
                await api(stack, "POST", f"/v1/segments/{base['id']}/rebuild")
            ).status_code == 202

            async def base_running() -> bool:
                build = await latest_build(stack, base)
                return bool(build and build["state"] == "running")

            await wait_for(base_running)
            # An edit of the segment on top waits for its base's build to end.
            edited = await api(
                stack,
                "PATCH",
                f"/v1/segments/{top['id']}",
                json={"rules": group(member_of(base), prop("is_vip", "is_false"))},
            )
            assert edited.status_code == 200

            async def waiting(segment: dict[str, Any]) -> str | None:
                shown = (await api(stack, "GET", f"/v1/segments/{segment['id']}")).json()
                return (shown["build"] or {}).get("waiting")

            async def top_waits() -> str | None:
                return await waiting(top)

            assert await wait_for(top_waits, timeout_s=12) == f"waiting for '{base['name']}'"
            slow = await wait_for(lambda: waiting(base), timeout_s=12)
            assert slow.startswith("its job has run ")
            assert " times longer than its recent builds" in slow
            history = (await api(stack, "GET", f"/v1/segments/{top['id']}/builds")).json()
            assert (history[0]["state"], history[0]["waiting"]) == (
                "requested",
                f"waiting for '{base['name']}'",
            )
            await wait_for(
                lambda: any(
                    f.get("segment_id") == top["id"] and f.get("waiting") == top_waits_note(base)
                    for f in frames
                ),
                timeout_s=10,
            )
            await settled(stack, base, top)
            await wait_for(
                lambda: any(
                    f.get("segment_id") == top["id"] and f.get("state") == "done" for f in frames
                )
            )
    finally:
        stack.reset_faults()
    shown = (await api(stack, "GET", f"/v1/segments/{top['id']}")).json()
    assert shown["build_status"] == "done"
    assert shown["build"]["waiting"] is None  # its move answered the question
    done = [f for f in frames if f.get("segment_id") == top["id"] and f.get("state") == "done"]
    assert done and done[-1].get("waiting") is None
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{stack.cfg.scheduler_port}/metrics")).text
    counted = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("segp_builds_delayed_total{")
    }
    assert counted['kind="dependency"'] >= 1
    assert counted['kind="slow_job"'] >= 1


def top_waits_note(base: dict[str, Any]) -> str:
    return f"waiting for '{base['name']}'"

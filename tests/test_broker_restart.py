"""A broker that restarts empty mid-flow, on a stack with the production deadlines (a
minute before an unanswered command is sent again): every build is back on track within
30 s of the broker's return, because the scheduler knows the broker lost what was in
flight (its topics were recreated) and re-drives it at once."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from e2e import api, create
from e2e import older_than as rules

pytestmark = pytest.mark.stack


async def test_every_build_is_back_on_track_within_30_s_of_a_broker_restart(patient_stack):
    stack = patient_stack
    stack.set_default_fault(duration_s=1.5)
    made = [
        await create(stack, f"Restart {i} {uuid4().hex[:6]}", rules(20 + 7 * i)) for i in range(5)
    ]
    await asyncio.sleep(0.8)  # some dispatched, some submitted, some running
    stack.kill("kafka")
    await asyncio.sleep(3.0)  # a restart of a few seconds: every service sees it gone
    stack.restart("kafka")
    back = asyncio.get_running_loop().time()
    states: dict[str, str] = {}
    while asyncio.get_running_loop().time() - back < 30:
        for segment in made:
            shown = (await api(stack, "GET", f"/v1/segments/{segment['id']}/builds")).json()
            states[segment["name"]] = shown[0]["state"] if shown else "none"
        if set(states.values()) == {"done"}:
            break
        await asyncio.sleep(0.5)
    stack.reset_faults()
    assert set(states.values()) == {"done"}, (states, stack.dump_logs(30))
    for segment in made:  # each built once: a re-driven build re-submits the same job
        builds = (await api(stack, "GET", f"/v1/segments/{segment['id']}/builds")).json()
        assert len(builds) == 1, builds

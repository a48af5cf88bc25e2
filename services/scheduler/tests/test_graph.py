"""The planner as data: a graph, the jobs' outcomes, and the order, skips and reasons expected.

`simulate` drives the pure functions the way the scheduler does: queue, ask what
may start, finish one job at a time, queue a finished segment's ancestors (the
cascade), skip what depends on a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import NAMESPACE_DNS, UUID, uuid5

import pytest

from scheduler.graph import (
    Snapshot,
    ancestors,
    cycles,
    next_steps,
    parents_of,
    skip_dependents,
)


def sid(name: str) -> UUID:
    return uuid5(NAMESPACE_DNS, name)


def graph(spec: Mapping[str, str]) -> dict[UUID, frozenset[UUID]]:
    """{'D': 'B C'} means D embeds B and C."""
    return {sid(p): frozenset(sid(c) for c in cs.split()) for p, cs in spec.items()}


def simulate(
    spec: Mapping[str, str],
    queued: str,
    *,
    fail: str = "",
    over_cost: Mapping[str, str] | None = None,
    busy: str = "",
) -> list[str]:
    names = {sid(n): n for n in {*spec, *" ".join(spec.values()).split(), *queued.split()}}
    embeds = graph(spec)
    waiting = {sid(n) for n in queued.split()}
    running = {sid(n) for n in busy.split()}
    failing = {sid(n) for n in fail.split()}
    costly = {sid(k): v for k, v in (over_cost or {}).items()}
    trace: list[str] = []
    label = names.__getitem__
    for _ in range(100):
        snap = Snapshot(embeds, frozenset(waiting), frozenset(running), costly)
        steps = next_steps(snap, label)
        # what starts together is listed by name; skips keep the planner's order
        steps = [d for d in steps if d.action == "skip"] + sorted(
            (d for d in steps if d.action == "dispatch"), key=lambda d: label(d.segment_id)
        )
        for d in steps:
            waiting.discard(d.segment_id)
            if d.action == "skip":
                trace.append(f"skip {label(d.segment_id)}: {d.reason}")
            else:
                running.add(d.segment_id)
                trace.append(f"start {label(d.segment_id)}")
        costly = {}
        if not running:
            break
        done = min(running, key=label)  # one job ends at a time, in a stable order
        running.discard(done)
        if done in failing:
            trace.append(f"fail {label(done)}")
            for d in skip_dependents(embeds, waiting, done, "failed", label):
                waiting.discard(d.segment_id)
                trace.append(f"skip {label(d.segment_id)}: {d.reason}")
        else:
            trace.append(f"done {label(done)}")
            waiting |= ancestors(parents_of(embeds), done)  # the cascade; queued ones coalesce
    return trace


DIAMOND = {"D": "B C", "B": "E", "C": "E"}

CASES = [
    pytest.param(
        {"B": "C"},
        "B C",
        {},
        ["start C", "done C", "start B", "done B"],
        id="a segment starts only after what it embeds",
    ),
    pytest.param(
        DIAMOND,
        "E",
        {},
        ["start E", "done E", "start B", "start C", "done B", "done C", "start D", "done D"],
        id="a cascade through a diamond builds each ancestor once, after all its children",
    ),
    pytest.param(
        DIAMOND,
        "B C D E",
        {},
        ["start E", "done E", "start B", "start C", "done B", "done C", "start D", "done D"],
        id="a refresh run over a diamond: no levels, each once",
    ),
    pytest.param(
        {"A": "B", "B": "C", "X": "Y"},
        "A B C X Y",
        {},
        [
            "start C",
            "start Y",
            "done C",
            "start B",
            "done B",
            "start A",
            "done A",
            "done Y",
            "start X",
            "done X",
        ],
        id="independent branches do not wait for each other",
    ),
    pytest.param(
        {"A": "B", "B": "C", "X": "C"},
        "A B C X",
        {"fail": "C"},
        [
            "start C",
            "fail C",
            "skip X: dependency C failed",
            "skip B: dependency C failed",
            "skip A: dependency B was skipped",
        ],
        id="dependents of a failure are skipped, transitively, naming the cause",
    ),
    pytest.param(
        {"A": "B"},
        "A B",
        {"over_cost": {"B": "over the cost threshold"}},
        ["skip B: over the cost threshold", "skip A: dependency B was skipped"],
        id="a segment over the cost threshold is skipped and so are its dependents",
    ),
    pytest.param(
        {"A": "B", "B": "A", "C": "D"},
        "A B C D",
        {},
        [
            "skip A: embedding cycle: A → B → A",
            "skip B: embedding cycle: A → B → A",
            "start D",
            "done D",
            "start C",
            "done C",
        ],
        id="a cycle that slipped into the data is reported, not looped",
    ),
    pytest.param(
        {"B": "C"},
        "B",
        {"busy": "C"},
        ["done C", "start B", "done B"],
        id="a queued build waits for a dependency already in flight",
    ),
    pytest.param(
        {},
        "A",
        {"busy": "A"},
        ["done A", "start A", "done A"],
        id="at most one build of a segment in flight: the queued one follows",
    ),
]


@pytest.mark.parametrize(("spec", "queued", "options", "expected"), CASES)
def test_plans(spec, queued, options, expected):
    assert simulate(spec, queued, **options) == expected


def test_order_is_respected_on_a_wide_deep_graph():
    # 5 levels, 40 segments: every start comes after the end of everything it embeds
    spec = {
        f"L{lvl}_{i}": f"L{lvl + 1}_{i} L{lvl + 1}_{(i + 1) % 8}"
        for lvl in range(4)
        for i in range(8)
    }
    everything = " ".join({*spec, *" ".join(spec.values()).split()})
    trace = simulate(spec, everything)
    ended: set[str] = set()
    starts = 0
    for line in trace:
        verb, name = line.split()[:2]
        if verb == "start":
            starts += 1
            assert all(c in ended for c in spec.get(name, "").split()), line
        elif verb == "done":
            ended.add(name)
    assert starts == 40  # once each


def test_cycles_are_found_once_and_self_loops_count():
    embeds = graph({"A": "B", "B": "C", "C": "A", "S": "S", "T": "A"})
    found = {tuple(sorted(str(s) for s in g)) for g in cycles(embeds)}
    assert found == {
        tuple(sorted(str(sid(n)) for n in "ABC")),
        (str(sid("S")),),
    }

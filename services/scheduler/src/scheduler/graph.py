"""Pure planning over an account's embedding graph: what may build now, what must be skipped.

One rule orders everything (refresh runs, cascades, edits): a queued build may
start only when no segment it embeds, at any depth, has a build queued or in
flight, and the segment itself has none in flight. A refresh run queues every
segment at once and the rule releases them in dependency order as builds end,
with no levels and no waits; a cascade queues the ancestor closure and each
ancestor starts once, after all of its children; two overlapping cascades
queue the same ancestor once (at most one queued build per segment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

Embeds = Mapping[UUID, frozenset[UUID]]  # parent -> the segments it embeds
Label = Callable[[UUID], str]


@dataclass(frozen=True)
class Decision:
    segment_id: UUID
    action: Literal["dispatch", "skip"]
    reason: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The account's graph and its builds: queued (waiting) and busy (in flight)."""

    embeds: Embeds
    queued: frozenset[UUID]
    busy: frozenset[UUID]
    over_cost: Mapping[UUID, str] = field(default_factory=dict)  # queued segment -> why


def parents_of(embeds: Embeds) -> dict[UUID, set[UUID]]:
    parents: dict[UUID, set[UUID]] = {}
    for parent, children in embeds.items():
        for child in children:
            parents.setdefault(child, set()).add(parent)
    return parents


def ancestors(parents: Mapping[UUID, set[UUID]], segment_id: UUID) -> set[UUID]:
    """Every segment that embeds `segment_id`, directly or through others (`parents`:
    the graph's parent index, from `parents_of`)."""
    return _reachable(parents, [segment_id])


def _reachable(edges: Mapping[UUID, AbstractSet[UUID]], start: Iterable[UUID]) -> set[UUID]:
    """Every node reached from `start` along `edges`, at any depth (not `start` itself,
    unless a loop leads back): upward through the parent index, downward through embeds."""
    seen: set[UUID] = set()
    stack = [p for s in start for p in edges.get(s, ())]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen


def cycles(embeds: Embeds) -> list[list[UUID]]:
    """Strongly connected groups that loop (Tarjan), each in a stable order."""
    index: dict[UUID, int] = {}
    low: dict[UUID, int] = {}
    on_stack: set[UUID] = set()
    stack: list[UUID] = []
    found: list[list[UUID]] = []
    counter = 0
    nodes = sorted(set(embeds) | {c for cs in embeds.values() for c in cs}, key=str)

    def visit(root: UUID) -> None:
        # Iterative, so a long chain cannot reach Python's recursion limit.
        nonlocal counter
        work: list[tuple[UUID, list[UUID]]] = [(root, sorted(embeds.get(root, ()), key=str))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop(0)
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(embeds.get(child, ()), key=str)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: list[UUID] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in embeds.get(node, ()):
                    found.append(sorted(group, key=str))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def skip_dependents(
    embeds: Embeds, queued: Iterable[UUID], failed: UUID, why: str, label: Label
) -> list[Decision]:
    """Queued builds that would read a table `failed` did not write: skipped, transitively
    (a skipped build's own queued dependents are skipped in turn)."""
    waiting = set(queued)
    parents = parents_of(embeds)
    decisions: list[Decision] = []
    frontier = [(failed, why)]
    while frontier:
        node, cause = frontier.pop()
        for parent in sorted(parents.get(node, ()), key=str):
            if parent in waiting:
                waiting.discard(parent)
                reason = f"dependency {label(node)} {cause}"
                decisions.append(Decision(parent, "skip", reason))
                frontier.append((parent, "was skipped"))
    return decisions


def blocked(embeds: Embeds, candidates: frozenset[UUID], waiting: frozenset[UUID]) -> set[UUID]:
    """The candidates that embed, at any depth, a segment with a build waiting or in flight."""
    out: set[UUID] = set()
    for candidate in candidates:
        seen: set[UUID] = set()
        stack = list(embeds.get(candidate, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            if node in waiting:
                out.add(candidate)
                break
            seen.add(node)
            stack.extend(embeds.get(node, ()))
    return out


def waits_for(embeds: Embeds, segment: UUID, open_: frozenset[UUID]) -> list[UUID]:
    """What a queued segment waits for: the segments it embeds, at any depth, whose builds
    are open and wait on nothing open below them (the ones doing the work now)."""
    busy = _reachable(embeds, [segment]) & open_
    return sorted(n for n in busy if not blocked(embeds, frozenset({n}), frozenset(busy)))


def next_steps(snapshot: Snapshot, label: Label) -> list[Decision]:
    """Skips first (cycles, cost, and what depends on those), then every build now ready."""
    queued = set(snapshot.queued)
    decisions: list[Decision] = []

    # Every segment is first skipped for its own reason, then what depends on it.
    own: dict[UUID, str] = {}
    for group in cycles(snapshot.embeds):
        ordered = sorted(group, key=label)
        path = " → ".join(label(s) for s in [*ordered, ordered[0]])
        own.update({s: f"embedding cycle: {path}" for s in ordered if s in queued})
    for segment_id, reason in snapshot.over_cost.items():
        own.setdefault(segment_id, reason)
    for segment_id in sorted(own, key=label):
        if segment_id in queued:
            queued.discard(segment_id)
            decisions.append(Decision(segment_id, "skip", own[segment_id]))
    for segment_id in sorted(own, key=label):
        for d in skip_dependents(snapshot.embeds, queued, segment_id, "was skipped", label):
            queued.discard(d.segment_id)
            decisions.append(d)

    blocked = _reachable(parents_of(snapshot.embeds), queued | snapshot.busy)
    ready = sorted(queued - snapshot.busy - blocked, key=str)
    decisions.extend(Decision(s, "dispatch") for s in ready)
    return decisions

"""Embedding rules, as pure functions over the account's segment graph.

A segment may embed others of its object type: never itself, never the same one
twice, never one that (through its own embeddings) already embeds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from uuid import UUID

from contracts.rules import Group, RuleSet, SegmentCondition
from segment_api.http.problems import FieldError


@dataclass(frozen=True)
class Known:
    object_type: str
    status: str


def segment_conditions(rules: RuleSet, base: str = "rules") -> list[tuple[str, UUID]]:
    """Every membership condition with its JSON path, in tree order."""
    found: list[tuple[str, UUID]] = []

    def walk(group: Group, path: str) -> None:
        for i, rule in enumerate(group.rules):
            here = f"{path}.rules[{i}]"
            if isinstance(rule, Group):
                walk(rule, here)
            elif isinstance(rule, SegmentCondition):
                found.append((f"{here}.segment_id", rule.segment_id))

    walk(rules.root, f"{base}.root")
    return found


def embedded(rules: RuleSet) -> list[UUID]:
    """The segments `rules` embed, each once, in tree order."""
    return list(dict.fromkeys(sid for _, sid in segment_conditions(rules)))


def reaches(graph: Mapping[UUID, Set[UUID]], start: UUID, goal: UUID) -> bool:
    """Is `goal` embedded by `start`, directly or through others? (breadth first)"""
    seen, frontier = {start}, [start]
    while frontier:
        nxt: list[UUID] = []
        for node in frontier:
            for child in graph.get(node, ()):
                if child == goal:
                    return True
                if child not in seen:
                    seen.add(child)
                    nxt.append(child)
        frontier = nxt
    return start == goal


def check(
    parent: UUID,
    object_type: str,
    rules: RuleSet,
    known: Mapping[UUID, Known],
    graph: Mapping[UUID, Set[UUID]],
) -> list[FieldError]:
    """Errors of `parent` embedding what `rules` name; `graph` without parent's own edges."""
    errors: list[FieldError] = []
    seen: set[UUID] = set()
    for path, child in segment_conditions(rules):
        if child == parent:
            errors.append(
                FieldError(
                    path=path, code="embedding_self", message="a segment cannot embed itself"
                )
            )
        elif child in seen:
            errors.append(
                FieldError(
                    path=path,
                    code="embedding_duplicate",
                    message="this segment is already embedded",
                )
            )
        elif child not in known:
            errors.append(
                FieldError(
                    path=path, code="embedding_not_found", message="no such segment in this account"
                )
            )
        elif known[child].object_type != object_type:
            errors.append(
                FieldError(
                    path=path,
                    code="embedding_object_mismatch",
                    message=f"embeds a {known[child].object_type} segment into a {object_type} one",
                )
            )
        elif reaches(graph, child, parent):
            errors.append(
                FieldError(
                    path=path,
                    code="embedding_cycle",
                    message="that segment already embeds this one",
                )
            )
        seen.add(child)
    return errors

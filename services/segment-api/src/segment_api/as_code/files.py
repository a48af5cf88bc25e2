"""Segments as readable YAML files, one a segment: name, description, object, the rule
tree (embedded segments by name: `{type: segment, segment: VIPs}`) and the split. A file
that does not parse or validate is reported with its file, line and path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args
from uuid import UUID

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.rules import Rule, RuleSet
from contracts.splits import SplitIn


class SegmentFile(BaseModel):
    """What one file holds."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    description: str | None = Field(None, max_length=2000)
    object: str = Field(min_length=1, max_length=100)
    rules: dict[str, Any]
    split: SplitIn | None = None


@dataclass(frozen=True)
class FileError:
    file: str
    line: int | None
    path: str
    message: str


@dataclass(frozen=True)
class Parsed:
    file: str
    segment: SegmentFile
    embeds: list[str]  # the names of the segments its rules embed


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "segment"


def _line(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest ancestor."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


# The rule types pydantic puts into an error's location after a list index.
_TAGS = frozenset(kind.model_fields["type"].default for kind in get_args(get_args(Rule)[0]))


def _untagged(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return tuple(
        k for i, k in enumerate(loc) if not (i and isinstance(loc[i - 1], int) and k in _TAGS)
    )


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _named_embeds(tree: Any, found: list[str]) -> Any:
    """The tree with `segment: <name>` kept aside (each replaced by a placeholder id)."""
    if isinstance(tree, dict):
        if tree.get("type") == "segment" and "segment" in tree:
            found.append(str(tree["segment"]))
            rest = {k: v for k, v in tree.items() if k != "segment"}
            return {**rest, "segment_id": str(UUID(int=len(found)))}
        return {k: _named_embeds(v, found) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_named_embeds(v, found) for v in tree]
    return tree


def parse(file: str, text: str) -> Parsed | list[FileError]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [FileError(file, line, "", f"not YAML: {getattr(exc, 'problem', exc)}")]
    try:
        segment = SegmentFile.model_validate(raw)
    except ValidationError as exc:
        return [
            FileError(file, _line(node, e["loc"]), _path(e["loc"]), e["msg"]) for e in exc.errors()
        ]
    embeds: list[str] = []
    tree = _named_embeds(segment.rules, embeds)
    try:
        RuleSet.model_validate({"object": segment.object, "root": tree})
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            loc = ("rules", *_untagged(tuple(e["loc"])[1:]))  # the file's `rules` is the root
            errors.append(FileError(file, _line(node, loc), _path(loc), e["msg"]))
        return errors
    return Parsed(file, segment, embeds)


def rules_with_ids(parsed: Parsed, ids: dict[str, UUID]) -> RuleSet:
    """The canonical rule set, each embedded name replaced by that segment's id."""
    found: list[str] = []
    tree = _named_embeds(parsed.segment.rules, found)

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("type") == "segment" and UUID(node["segment_id"]).int <= len(found):
                name = found[UUID(node["segment_id"]).int - 1]  # a placeholder for a name
                return {**node, "segment_id": str(ids[name.lower()])}
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return RuleSet.model_validate({"object": parsed.segment.object, "root": resolve(tree)})


def render(
    name: str,
    description: str | None,
    rules: RuleSet,
    names: dict[UUID, str],
    split: dict[str, Any] | None,
) -> str:
    """A segment as its file: readable, stable (the same segment, the same text)."""
    root = rules.root.model_dump(mode="json", exclude_none=True)

    def by_name(node: Any) -> Any:
        if isinstance(node, dict):
            known = names.get(UUID(node["segment_id"])) if node.get("type") == "segment" else None
            if known is not None:  # by name; one the caller cannot see keeps its id
                rest = {k: v for k, v in node.items() if k not in ("segment_id", "type")}
                return {"type": "segment", "segment": known, **rest}
            return {k: by_name(v) for k, v in node.items()}
        if isinstance(node, list):
            return [by_name(v) for v in node]
        return node

    document: dict[str, Any] = {"name": name}
    if description:
        document["description"] = description
    document["object"] = rules.object
    document["rules"] = by_name(root)
    if split:
        document["split"] = {
            "buckets": [
                {"name": b["name"], "percent": float(b["percent"])} for b in split["buckets"]
            ]
        }
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))

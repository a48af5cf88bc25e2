"""Rule errors carry the JSON path of the node they are about."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleError:
    path: str  # e.g. "rules.root.rules[1].value"
    code: str  # stable: unknown_object, unknown_field, operator_not_allowed, invalid_value
    message: str


class RuleSetInvalidError(Exception):
    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors

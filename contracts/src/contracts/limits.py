"""Rule-set limits per account plan; the server enforces them, not only frontends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PlanLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_groups: int = Field(description="Groups below the root.")
    max_conditions_per_group: int = Field(description="Conditions directly inside one group.")
    max_depth: int = Field(description="Group nesting depth; the root is depth 1.")
    max_segments: int = Field(description="Active segments per account.")
    max_sequence_steps: int = Field(5, description="Steps in one sequence condition.")
    max_split_buckets: int = Field(5, description="Buckets in one segment's split.")


PLANS: dict[str, PlanLimits] = {
    # The RFC's basic limits: two groups of three conditions.
    "plus": PlanLimits(
        max_groups=2,
        max_conditions_per_group=3,
        max_depth=2,
        max_segments=50,
        max_sequence_steps=3,
        max_split_buckets=3,
    ),
    "standard": PlanLimits(
        max_groups=10, max_conditions_per_group=10, max_depth=4, max_segments=200
    ),
    "ultimate": PlanLimits(
        max_groups=20,
        max_conditions_per_group=20,
        max_depth=6,
        max_segments=1000,
        max_split_buckets=10,
    ),
}
DEFAULT_PLAN = "standard"
UNLIMITED = PlanLimits(
    max_groups=10**6,
    max_conditions_per_group=10**6,
    max_depth=10**6,
    max_segments=10**6,
    max_sequence_steps=20,
    max_split_buckets=20,
)

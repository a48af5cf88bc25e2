"""Bodies and helpers several features share: text fields, a segment's reach."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic.config import JsonDict

NAME_MAX = 60  # the frontend RFC's limit


MAX_PAGE = 100_000  # keeps page * per_page a sane offset


DESCRIPTION_MAX = 250


def _no_nul(value: str) -> str:
    """Postgres stores no NUL character: refused here, with the field's name, not there."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


Name = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]


Description = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)]


ONE_SHAPE: JsonDict = {
    "oneOf": [
        {"required": ["rules"]},
        {"required": ["rule_set"]},
        {"required": ["ruleGroups"]},
    ]
}


SortKey = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "name",
    "-name",
    "member_count",
    "-member_count",
]


class ChannelReach(BaseModel):
    reachable: int
    percentage: float


class Reachability(BaseModel):
    """Members reachable per channel: the RFC's `<channel>_pct` and the counts."""

    whatsapp_pct: float = Field(0.0, description="Percent of members reachable on WhatsApp.")
    email_pct: float = Field(0.0, description="Percent of members reachable by email.")
    whatsapp: ChannelReach | None = None
    email: ChannelReach | None = None


Channel = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]

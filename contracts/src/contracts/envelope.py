"""The envelope every message on every topic wears.

Attribute names follow CloudEvents 1.0 (`specversion`, `id`, `source`, `type`,
`time`, `datacontenttype`) plus three extension attributes the platform needs
on every fact: `accountid`, `correlationid` and `dataschemaversion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from contracts.clock import SYSTEM_CLOCK


class Envelope(BaseModel):
    """Common attributes; each topic's message subclasses this with a typed `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = Field("1.0", description="CloudEvents spec version.")
    id: UUID = Field(
        default_factory=uuid4,
        description="Unique message id; consumers record it so a redelivery changes nothing twice.",
    )
    source: str = Field(
        description="The service that stated the fact, e.g. `segment-api`.",
        examples=["segment-api"],
    )
    time: datetime = Field(
        default_factory=SYSTEM_CLOCK.now, description="When the fact happened (UTC)."
    )
    datacontenttype: Literal["application/json"] = "application/json"
    dataschemaversion: int = Field(1, ge=1, description="Version of this message's `data` schema.")
    accountid: UUID = Field(description="The account (tenant) the fact belongs to.")
    correlationid: UUID = Field(
        description="Id shared by every message caused by one user action or schedule tick.",
    )

    @classmethod
    def caused_by(
        cls, cause: Cause | Envelope, source: str, data: BaseModel, *, id: UUID | None = None
    ) -> Self:
        """The message `source` sends because of `cause` (a message it handles, or a
        person's request): same account, same correlation id, so the chain can be followed.
        """
        if isinstance(cause, Envelope):
            cause = Cause.of(cause)
        fields: dict[str, Any] = {
            "source": source,
            "accountid": cause.account_id,
            "correlationid": cause.correlation_id,
            "data": data,
        }
        if id is not None:
            fields["id"] = id
        return cls(**fields)


@dataclass(frozen=True)
class Cause:
    """What a message continues: the account it belongs to and the correlation id of the
    user action or schedule tick that started the chain."""

    account_id: UUID
    correlation_id: UUID

    @classmethod
    def of(cls, message: Envelope) -> Cause:
        return cls(message.accountid, message.correlationid)


class Event(Envelope):
    """A fact: named in the past tense, stated by one service, read by any number."""


class Command(Envelope):
    """A command: named in the imperative, asks exactly one handler to act (a test over
    the topic registry holds each to one)."""

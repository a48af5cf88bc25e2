"""Bodies of the probes and the realtime (Pusher) routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PusherAuth(BaseModel):
    auth: str = Field(description="`key:signature` for the private channel subscription.")


class PusherClient(BaseModel):
    """What pusher-js needs besides the channel: the app key and the server's address."""

    key: str
    host: str
    port: int
    tls: bool


class RealtimeChannel(BaseModel):
    """Where the caller hears of the segments they may see."""

    channel: str = Field(
        description="The Pusher private channel to subscribe to: the account's for a user who "
        "sees the whole account, their own owner channel for one whose view is `owned`.",
        examples=["private-account-9f0c2a61c0de4c1a9d1b2c3d4e5f6a7b"],
    )
    events: list[str] = Field(description="Event names pushed on it.")
    websocket_path: str = Field(
        description="The notifier's native websocket, filtered the same way "
        "(pass the token as `access_token`)."
    )
    pusher: PusherClient | None = Field(
        None, description="Where a Pusher client connects (absent when not configured)."
    )


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    postgres: str = Field(description="`up`, or `down: <why>`.")
    kafka: str = Field(description="`up`, or `down: <why>`.")
    redis: str = Field(description="Reported, not required (answers are uncached without it).")


class HealthOut(BaseModel):
    status: str
    cache: str = Field(description="up, or down (answering uncached)")

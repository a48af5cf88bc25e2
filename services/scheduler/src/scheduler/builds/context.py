"""One decision's context: the transaction, the account, and what it loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from contracts.clock import Clock
from contracts.envelope import Cause
from contracts.messages import BuildState
from scheduler import graph, repository
from segment_runtime.db import Connection

SOURCE = "scheduler"
IN_FLIGHT = (BuildState.REQUESTED, BuildState.SUBMITTED, BuildState.RUNNING)


@dataclass
class Tx:
    """One decision's context: the connection, the account, the correlation id, and what
    it loaded once (the embedding graph, the names) and touched (where to look next)."""

    conn: Connection
    account_id: UUID
    correlation: UUID
    graphs: GraphCache
    clock: Clock
    _graph: AccountGraph | None = None
    _names: dict[UUID, str] | None = None
    # Segments whose builds ended here: only they and their parents can have become
    # ready. None means "look at everything" (something new was queued).
    ended: set[UUID] | None = field(default_factory=set)

    @property
    def cause(self) -> Cause:
        """What the messages this decision sends continue."""
        return Cause(self.account_id, self.correlation)

    async def account_graph(self) -> AccountGraph:
        if self._graph is None:
            self._graph = await self.graphs.get(self.conn, self.account_id)
        return self._graph

    async def embeds(self) -> graph.Embeds:
        return (await self.account_graph()).embeds

    async def parents(self) -> dict[UUID, set[UUID]]:
        return (await self.account_graph()).parents

    async def label(self) -> graph.Label:
        if self._names is None:
            self._names = await repository.names(self.conn, self.account_id)
        return _labeller(self._names)


@dataclass(frozen=True)
class AccountGraph:
    embeds: graph.Embeds
    parents: dict[UUID, set[UUID]]


class GraphCache:
    """Each account's embedding graph, read again only when its segments changed: every
    job's end consults it, and it changes far less often than jobs end."""

    def __init__(self) -> None:
        self._graphs: dict[UUID, tuple[tuple[int, datetime | None], AccountGraph]] = {}

    async def get(self, conn: Connection, account_id: UUID) -> AccountGraph:
        version = await repository.graph_version(conn, account_id)
        cached = self._graphs.get(account_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        embeds = await repository.embeds(conn, account_id)
        loaded = AccountGraph(embeds, graph.parents_of(embeds))
        self._graphs[account_id] = (version, loaded)
        return loaded


def _labeller(names: dict[UUID, str]) -> graph.Label:
    return lambda s: f"'{names.get(s, s.hex[:8])}'"

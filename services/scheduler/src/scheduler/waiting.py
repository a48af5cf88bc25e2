"""Builds that wait longer than expected say why, while they wait.

A build queued behind what it embeds names the dependency it waits for (the ones doing
the work now, at the bottom of the chain); a job running several times longer than its
segment's recent builds says so, with both figures. The note is on the build and on the
segment's status, pushed like any change, and cleared by the build's next move. Nothing
is decided here: the build owner records the note; this only looks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

import structlog

from scheduler import graph, repository
from scheduler.builds import BuildOwner
from segment_runtime.db import Connection, Pool

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Patience:
    queued_s: float = 60.0  # a build queued behind its dependencies this long says for what
    slow_factor: float = 3.0  # a job running this many times its recent median says so
    slow_at_least_s: float = 30.0  # ... once it has run this long (short jobs vary a lot)


def dependency_note(blockers: list[str], more: int) -> str:
    named = ", ".join(blockers)
    return f"waiting for {named}" + (f" and {more} more" if more else "")


def slow_note(ran_s: float, usual_s: float) -> str:
    # Jobs that took no measurable time count as a second: "9000 times longer" says nothing.
    return (
        f"its job has run {ran_s / max(usual_s, 1.0):.1f} times longer than its recent builds"
        f" ({_duration(ran_s)}, against a median of {_duration(usual_s)})"
    )


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


class WaitWatch:
    def __init__(self, pool: Pool, owner: BuildOwner, patience: Patience | None = None) -> None:
        self._pool = pool
        self._owner = owner
        self.patience = patience or Patience()

    async def run_once(self) -> int:
        """One look; returns how many builds were given a new note."""
        p = self.patience
        notes: dict[UUID, list[tuple[repository.Build, str]]] = defaultdict(list)
        async with self._pool.acquire() as conn:
            queued = await repository.long_queued(conn, p.queued_s)
            slow = await repository.slow_jobs(conn, p.slow_factor, p.slow_at_least_s)
            by_account: dict[UUID, list[repository.Build]] = defaultdict(list)
            for build in queued:
                by_account[build.account_id].append(build)
            for account_id, builds in by_account.items():
                # A refresh run queues a whole account: its graph is read once a look.
                for build, note in await self._dependencies(conn, account_id, builds):
                    if note != build.waiting:
                        notes[account_id].append((build, note))
        for job in slow:
            note = slow_note(job.ran_s, job.usual_s)
            # The figure grows while the job runs: say it again only when it moved a step.
            if job.build.waiting is None or _factor(job.build.waiting) != _factor(note):
                notes[job.build.account_id].append((job.build, note))
        noted = 0
        for account_id, items in notes.items():
            noted += await self._owner.note_waits(account_id, items)
        return noted

    async def _dependencies(
        self, conn: Connection, account_id: UUID, builds: list[repository.Build]
    ) -> list[tuple[repository.Build, str]]:
        """Each queued build with what it waits for (those waiting on nothing left out)."""
        embeds = await repository.embeds(conn, account_id)
        open_ = await repository.open_set(conn, account_id)
        names = await repository.names(conn, account_id)
        out = []
        for build in builds:
            blockers = graph.waits_for(embeds, build.segment_id, open_.queued | open_.busy)
            if blockers:
                shown = [f"'{names.get(b, b.hex[:8])}'" for b in blockers[:3]]
                out.append((build, dependency_note(shown, len(blockers) - len(shown))))
        return out


def _factor(note: str) -> str:
    """The whole part of the factor a slow note states ("has run 4.2 times" gives "4")."""
    head = note.split(" times", 1)[0]
    return head.rsplit(" ", 1)[-1].split(".")[0]

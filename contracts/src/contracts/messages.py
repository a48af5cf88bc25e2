"""The messages of every platform topic.

Facts (`Event`) are named in the past tense and may have any number of consumers
(`segment.changed`, `job.submitted`, `job.started`, `job.completed`, `build.changed`,
`membership.changed`). Commands (`Command`) are named in the imperative and ask exactly
one handler to act: `PlanBuilds` on `cascade.requested` to the scheduler (rebuild these
segments, or start a refresh run), `StartBuild` on `build.requested` to the compiler and
`CancelJob` on `job.cancel.requested` to the job monitor.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Command, Event

_EXAMPLE_SEGMENT = "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    DELETED = "deleted"


class BuildStatus(StrEnum):
    """A segment's build state as the frontend shows it (a projection of its latest build)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"


class BuildState(StrEnum):
    """One build's life: requested → submitted → running → done | failed | skipped | canceled."""

    REQUESTED = "requested"  # decided by the scheduler; waits for what the segment embeds
    SUBMITTED = "submitted"  # the compiler submitted its job to BigQuery
    RUNNING = "running"  # BigQuery said the job runs
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # a dependency failed, a cycle, or over the account's cost threshold
    CANCELED = "canceled"  # the segment was archived or deleted, or the job timed out

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def status(self) -> BuildStatus:
        """What a frontend shows for a segment whose latest build is in this state."""
        return _STATUS[self]


_TERMINAL = frozenset({BuildState.DONE, BuildState.FAILED, BuildState.SKIPPED, BuildState.CANCELED})
_STATUS = {
    BuildState.REQUESTED: BuildStatus.IN_PROGRESS,
    BuildState.SUBMITTED: BuildStatus.IN_PROGRESS,
    BuildState.RUNNING: BuildStatus.IN_PROGRESS,
    BuildState.DONE: BuildStatus.DONE,
    BuildState.FAILED: BuildStatus.FAILED,
    BuildState.SKIPPED: BuildStatus.SKIPPED,
    BuildState.CANCELED: BuildStatus.CANCELED,
}


class BuildCause(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    UNARCHIVE = "unarchive"
    REBUILD = "rebuild"  # a user asked
    REFRESH = "refresh"  # a scheduled or manual refresh run
    CASCADE = "cascade"  # something the segment embeds was rebuilt
    RECOVERY = "recovery"  # the reconciler found a change no build had answered


class JobPriority(StrEnum):
    """BigQuery's query priority. INTERACTIVE runs at once and counts against the
    concurrent-query quota; BATCH queues until resources are free, off that quota."""

    INTERACTIVE = "INTERACTIVE"
    BATCH = "BATCH"


class JobOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class BuildMode(StrEnum):
    BUILD = "build"  # CREATE OR REPLACE the member table
    REFRESH = "refresh"  # bring an existing member table up to date


class SegmentChangedData(_Data):
    segment_id: UUID = Field(description="The segment that changed.", examples=[_EXAMPLE_SEGMENT])
    change: ChangeKind = Field(description="What happened to it.")
    rules_version: int = Field(
        ge=1, description="Version of the rule set after the change; builds carry it along."
    )
    rules_changed: bool = Field(
        True, description="False when only name/description changed: no rebuild is needed."
    )
    owner: str | None = Field(
        None,
        description="Who created the segment: a user whose view is `owned` is pushed only "
        "their own segments' news. None (unknown) reaches account-wide viewers only.",
        examples=["user-1"],
    )


class SegmentChanged(Event):
    """A segment was created, edited, archived, unarchived or deleted."""

    type: Literal["segment.changed"] = "segment.changed"
    data: SegmentChangedData


class StartBuildData(_Data):
    build_id: UUID = Field(description="The scheduler's build record; the job id derives from it.")
    segment_id: UUID = Field(description="The segment to build.", examples=[_EXAMPLE_SEGMENT])
    mode: BuildMode = Field(BuildMode.REFRESH, description="Replace the table, or refresh it.")
    cause: BuildCause = Field(description="Why the scheduler decided this build.")
    rules_version: int = Field(ge=1, description="The rules version the build was asked for.")
    run_id: UUID | None = Field(None, description="The refresh run it belongs to.")
    attempt: int = Field(1, ge=1, description="Above 1 when the reconciler re-sent the command.")
    priority: JobPriority = Field(
        JobPriority.INTERACTIVE,
        description="The job's BigQuery priority: a refresh run's builds take the account's"
        " choice, every other build (a person's edit, rebuild, cascade) is INTERACTIVE.",
    )


class StartBuild(Command):
    """Compile this build and submit its job (one handler: the compiler).

    Only the scheduler sends it, once everything the segment embeds has been built."""

    type: Literal["build.requested"] = "build.requested"
    data: StartBuildData


class CancelJobData(_Data):
    build_id: UUID = Field(description="The build the job serves (already canceled).")
    segment_id: UUID = Field(description="Its segment.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id.", examples=["seg_6f1c2a5e_b0a1b2c3d4e5f"])
    reason: str = Field(
        description="Why the build owner canceled it.", examples=["segment deleted"]
    )


class CancelJob(Command):
    """Cancel this build's job (one handler: the job monitor). The scheduler, which owns
    builds, sends it when it cancels a build whose job may still run (its segment was
    deleted); the job monitor stops the job in BigQuery and records it canceled."""

    type: Literal["job.cancel.requested"] = "job.cancel.requested"
    data: CancelJobData


class JobSubmittedData(_Data):
    build_id: UUID = Field(description="The build the job serves.")
    segment_id: UUID = Field(description="The segment being built.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id.", examples=["seg_6f1c2a5e_b0a1b2c3d4e5f"])
    mode: BuildMode = Field(description="Replace the table, or refresh it.")
    rules_version: int = Field(ge=1, description="The rule set version the job builds.")
    table: str = Field(
        description="Fully qualified member table the job writes.",
        examples=["demo.acct_d0000000000040008000000000000001.segment_6f1c2a5e"],
    )
    run_id: UUID | None = Field(None, description="The refresh run it belongs to.")
    build_time: datetime | None = Field(
        None, description="The run's time; members who entered in it carry it as entered_at."
    )


class JobSubmitted(Event):
    """A build job for a segment's member table was submitted to BigQuery."""

    type: Literal["job.submitted"] = "job.submitted"
    data: JobSubmittedData


class JobStartedData(_Data):
    build_id: UUID = Field(description="The build the job serves.")
    segment_id: UUID = Field(description="The segment being built.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id.")
    started_at: datetime | None = Field(None, description="When BigQuery started it.")


class JobStarted(Event):
    """BigQuery reported a submitted job as running."""

    type: Literal["job.started"] = "job.started"
    data: JobStartedData


class JobCompletedData(_Data):
    build_id: UUID = Field(description="The build the job served.")
    segment_id: UUID = Field(description="The segment built.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id (compile_<build> when no job was created).")
    status: JobOutcome = Field(description="done, failed or canceled.")
    rules_version: int = Field(ge=1, description="The rule set version the job built.")
    member_count: int | None = Field(None, ge=0, description="Rows in the member table.")
    built_at: datetime | None = Field(None, description="When the job ended.")
    duration_ms: int | None = Field(None, ge=0, description="How long BigQuery ran the job.")
    bytes_billed: int | None = Field(None, ge=0, description="Bytes billed, where reported.")
    error: str | None = Field(None, description="Why the job failed or was canceled.")
    entered: int | None = Field(
        None, ge=0, description="Members who entered in this build (read back from the log)."
    )
    exited: int | None = Field(
        None, ge=0, description="Members who left in this build (read back from the log)."
    )
    run_id: UUID | None = Field(None, description="The refresh run it belongs to.")


class JobCompleted(Event):
    """A segment build job ended: done, failed or canceled. A fact; the scheduler decides."""

    type: Literal["job.completed"] = "job.completed"
    data: JobCompletedData


class MembershipChangedData(_Data):
    build_id: UUID = Field(description="The build whose warehouse statement committed.")
    segment_id: UUID = Field(description="The segment.", examples=[_EXAMPLE_SEGMENT])
    run_id: UUID | None = Field(None, description="The refresh run it belongs to.")
    rules_version: int = Field(ge=1, description="The rules version the build applied.")
    built_at: datetime | None = Field(None, description="When the build's job ended.")
    build_time: datetime | None = Field(
        None, description="The time stamped on the intervals it opened and closed."
    )
    members: int | None = Field(None, ge=0, description="Members after the build.")
    entered: int = Field(ge=0, description="How many entered in the whole build.")
    exited: int = Field(ge=0, description="How many left in the whole build.")
    chunk: int = Field(ge=0, description="This record's place among the build's (from 0).")
    chunks: int = Field(ge=1, description="How many records carry the build's changes.")
    entered_ids: list[str] = Field(
        default_factory=list,
        description="Member ids that entered, in id order, continued in the next chunk.",
        examples=[["c_000017", "c_000342"]],
    )
    exited_ids: list[str] = Field(
        default_factory=list,
        description="Member ids that left, in id order, after all entered ids.",
        examples=[["c_000101"]],
    )


class MembershipChanged(Event):
    """Who entered and who left a segment in one committed build, in ordered chunks that
    stay far below the record limit. Every build that changed the log is announced, once,
    in build order per segment (key = segment id); a build that changed nothing is one
    chunk with empty lists. Chunk ids are derived from the build, so a repeat is seen as one.
    Published only by the job monitor, which reads the changes back from the log."""

    type: Literal["membership.changed"] = "membership.changed"
    data: MembershipChangedData


class RebuildSegmentsData(_Data):
    """Rebuild these segments, then every segment that embeds them: each once, and after
    what it embeds."""

    scope: Literal["segments"] = Field(
        "segments", description="Tells this command from a refresh run on the same topic."
    )
    segment_ids: list[UUID] = Field(min_length=1, description="Where the cascade starts.")
    cause: Literal["rebuild"] = Field("rebuild", description="Why it was asked for.")
    run_id: None = Field(
        None, description="Always null (a rebuild is not a run; kept for the wire)."
    )


class StartRefreshRunData(_Data):
    """Start a refresh run over every active segment of the account."""

    scope: Literal["account"] = Field(
        "account", description="Tells this command from a rebuild on the same topic."
    )
    segment_ids: list[UUID] = Field(
        default_factory=list, max_length=0, description="Always empty (kept for the wire)."
    )
    cause: Literal["refresh"] = Field("refresh", description="Why it was asked for.")
    run_id: UUID | None = Field(None, description="The id the refresh run will carry.")


PlanBuildsData = Annotated[RebuildSegmentsData | StartRefreshRunData, Field(discriminator="scope")]


class PlanBuilds(Command):
    """Plan builds (one handler: the scheduler): rebuild segments and what embeds them
    (`scope: segments`), or start a refresh run (`scope: account`)."""

    type: Literal["cascade.requested"] = "cascade.requested"
    data: PlanBuildsData


class RunProgress(_Data):
    run_id: UUID = Field(description="The refresh run.")
    state: Literal["running", "finished"] = Field(description="Finished once no build is open.")
    total: int = Field(ge=0, description="Builds in the run: fixed when it starts.")
    counts: dict[str, int] = Field(description="Builds of the run in each state.")
    ended: int = Field(
        0,
        ge=0,
        description="Builds of the run that have ended (done, failed, skipped, canceled): "
        "it only grows, so of two pushes the one with more ended is the newer.",
    )


class BuildChangedData(_Data):
    build_id: UUID = Field(description="The build record.")
    segment_id: UUID = Field(description="Its segment.", examples=[_EXAMPLE_SEGMENT])
    state: BuildState = Field(description="The build's new state.")
    status: BuildStatus = Field(description="The segment's build status a frontend shows.")
    cause: BuildCause = Field(description="Why the build exists.")
    rules_version: int = Field(ge=1, description="The rules version it builds.")
    since: datetime = Field(description="When the build entered this state.")
    reason: str | None = Field(None, description="Why it failed, was skipped or canceled.")
    job_id: str | None = Field(None, description="BigQuery job id, once submitted.")
    member_count: int | None = Field(None, ge=0, description="Rows in the table, once done.")
    entered: int | None = Field(None, ge=0, description="Members who entered in this build.")
    exited: int | None = Field(None, ge=0, description="Members who left in this build.")
    built_at: datetime | None = Field(None, description="When the member table was written.")
    anomaly: str | None = Field(
        None,
        description="Why the committed size is suspicious (moved over the account's threshold, "
        "or emptied); the build is done all the same.",
        examples=["shrank 61 % (5,070 → 2,000 members), over the account's ±50 % threshold"],
    )
    waiting: str | None = Field(
        None,
        description="Why the build waits longer than expected, while it waits: the dependency"
        " it waits for, or how much longer than usual its job has run.",
        examples=[
            "waiting for 'High value'",
            "its job has run 3.4 times longer than its recent builds",
        ],
    )
    run: RunProgress | None = Field(None, description="The refresh run's progress, if any.")
    owner: str | None = Field(
        None,
        description="Who created the segment: a user whose view is `owned` is pushed only "
        "their own segments' news. None (unknown) reaches account-wide viewers only.",
        examples=["user-1"],
    )


class BuildChanged(Event):
    """A build changed state. Published only by the scheduler, the builds' one writer."""

    type: Literal["build.changed"] = "build.changed"
    data: BuildChangedData


class RecipientListCreatedData(_Data):
    list_id: UUID = Field(description="The recipient list.")
    segment_id: UUID = Field(
        description="The segment it was frozen from.", examples=[_EXAMPLE_SEGMENT]
    )
    channel: str = Field(
        description="The channel its members are reachable on.", examples=["whatsapp"]
    )
    recipients: int = Field(ge=1, description="Rows in the list.")
    table: str = Field(description="The warehouse table holding it (project.dataset.table).")
    created_by: str = Field(description="Who asked for it.")
    bucket: str | None = Field(
        None, description="The bucket of the segment's split it holds, if one.", examples=["A"]
    )


class RecipientListCreated(Event):
    """A segment's reachable members were frozen into a recipient list (Send Campaign);
    a broadcast service reads it page by page. Published only by the gateway."""

    type: Literal["recipient_list.created"] = "recipient_list.created"
    data: RecipientListCreatedData


AnyMessage = (
    SegmentChanged
    | StartBuild
    | CancelJob
    | JobSubmitted
    | JobStarted
    | JobCompleted
    | PlanBuilds
    | BuildChanged
    | RecipientListCreated
    | MembershipChanged
)

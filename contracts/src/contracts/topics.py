"""Topic names, keys and the message each topic carries, defined once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.envelope import Command
from contracts.messages import (
    AnyMessage,
    BuildChanged,
    CancelJob,
    JobCompleted,
    JobStarted,
    JobSubmitted,
    MembershipChanged,
    PlanBuilds,
    RecipientListCreated,
    SegmentChanged,
    StartBuild,
)

# Facts (`Event`: any number of consumers):
SEGMENT_CHANGED = "segment.changed"  # gateway: a segment was created/edited/archived/deleted
JOB_SUBMITTED = "job.submitted"  # compiler: a build's job went to BigQuery
JOB_STARTED = "job.started"  # job monitor: BigQuery runs the job
JOB_COMPLETED = "job.completed"  # job monitor (compiler, when no job could be made): it ended
BUILD_CHANGED = "build.changed"  # scheduler: a build changed state (what frontends are told)
RECIPIENT_LIST_CREATED = "recipient_list.created"  # gateway: Send Campaign froze a list
MEMBERSHIP_CHANGED = "membership.changed"  # job monitor: who entered and left in a build
# Commands (`Command`: exactly one handler; tests/test_topic_registry.py holds them to it):
CASCADE_REQUESTED = "cascade.requested"  # PlanBuilds → scheduler: rebuild segments, or refresh
BUILD_REQUESTED = "build.requested"  # StartBuild → compiler: compile and submit this build's job
JOB_CANCEL_REQUESTED = "job.cancel.requested"  # CancelJob → job monitor: stop this job
# Poison messages land here with the original topic, partition, offset and error in headers.
DEAD_LETTER = "dead-letter"


@dataclass(frozen=True)
class Topic:
    name: str
    message: type[AnyMessage]
    key: Callable[[AnyMessage], str]
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    partitions: int = 3

    @property
    def is_command(self) -> bool:
        return issubclass(self.message, Command)


def _segment_key(message: AnyMessage) -> str:
    segment_id = getattr(message.data, "segment_id", None)
    return str(segment_id) if segment_id is not None else str(message.accountid)


def _account_key(message: AnyMessage) -> str:
    return str(message.accountid)


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(
            SEGMENT_CHANGED,
            SegmentChanged,
            _segment_key,
            ("segment-api",),
            ("scheduler", "compiler", "notifier"),
        ),
        Topic(BUILD_REQUESTED, StartBuild, _segment_key, ("scheduler",), ("compiler",)),
        Topic(JOB_CANCEL_REQUESTED, CancelJob, _segment_key, ("scheduler",), ("job-monitor",)),
        Topic(
            JOB_SUBMITTED, JobSubmitted, _segment_key, ("compiler",), ("job-monitor", "scheduler")
        ),
        Topic(JOB_STARTED, JobStarted, _segment_key, ("job-monitor",), ("scheduler",)),
        Topic(
            JOB_COMPLETED, JobCompleted, _segment_key, ("job-monitor", "compiler"), ("scheduler",)
        ),
        Topic(BUILD_CHANGED, BuildChanged, _segment_key, ("scheduler",), ("notifier",)),
        Topic(CASCADE_REQUESTED, PlanBuilds, _account_key, ("segment-api",), ("scheduler",)),
        Topic(
            RECIPIENT_LIST_CREATED,
            RecipientListCreated,
            _segment_key,
            ("segment-api",),
            ("broadcast services",),
        ),
        Topic(
            MEMBERSHIP_CHANGED,
            MembershipChanged,
            _segment_key,
            ("job-monitor",),
            ("campaigns and journeys",),
        ),
    )
}
ALL_TOPIC_NAMES: tuple[str, ...] = (*TOPICS, DEAD_LETTER)

_BY_TYPE: dict[str, Topic] = {t.name: t for t in TOPICS.values()}


def topic_for(message: AnyMessage) -> Topic:
    """The topic a message belongs on (its `type` is its topic name)."""
    return _BY_TYPE[message.type]

from __future__ import annotations

from typing import get_args
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from contracts.envelope import Cause
from contracts.messages import (
    BuildMode,
    BuildState,
    BuildStatus,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobStarted,
    JobStartedData,
    PlanBuilds,
    RebuildSegmentsData,
    SegmentChanged,
    SegmentChangedData,
    StartRefreshRunData,
)
from contracts.topics import CASCADE_REQUESTED, JOB_COMPLETED, SEGMENT_CHANGED, TOPICS, topic_for

ACCOUNT, SEGMENT = uuid4(), uuid4()


def changed() -> SegmentChanged:
    return SegmentChanged(
        source="test",
        accountid=ACCOUNT,
        correlationid=uuid4(),
        data=SegmentChangedData(segment_id=SEGMENT, change=ChangeKind.CREATED, rules_version=1),
    )


def test_a_message_survives_the_wire_unchanged():
    message = changed()
    assert SegmentChanged.model_validate_json(message.model_dump_json()) == message


def test_each_message_names_its_topic_and_is_keyed_as_documented():
    message = changed()
    assert topic_for(message).name == SEGMENT_CHANGED
    assert topic_for(message).key(message) == str(SEGMENT)
    cascade = PlanBuilds(
        source="test",
        accountid=ACCOUNT,
        correlationid=uuid4(),
        data=RebuildSegmentsData(segment_ids=[SEGMENT]),
    )
    assert topic_for(cascade).name == CASCADE_REQUESTED
    assert topic_for(cascade).key(cascade) == str(ACCOUNT)


def test_unknown_attributes_are_refused_rather_than_dropped():
    raw = changed().model_dump(mode="json")
    raw["data"]["surprise"] = 1
    with pytest.raises(ValidationError):
        SegmentChanged.model_validate(raw)


def test_a_message_of_one_topic_does_not_parse_as_another():
    with pytest.raises(ValidationError):
        JobCompleted.model_validate(changed().model_dump(mode="json"))


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_data_field_is_described_for_operators(topic: str):
    annotation = TOPICS[topic].message.model_fields["data"].annotation
    # A command topic may carry one of several commands (a union of data models).
    data_models = get_args(annotation) or (annotation,)
    for data_model in data_models:
        assert isinstance(data_model, type) and issubclass(data_model, BaseModel)
        undocumented = [name for name, f in data_model.model_fields.items() if not f.description]
        assert undocumented == []


def test_envelope_carries_cloudevents_attributes():
    body = JobCompleted(
        source="job-monitor",
        accountid=ACCOUNT,
        correlationid=uuid4(),
        data=JobCompletedData(
            build_id=uuid4(),
            segment_id=SEGMENT,
            job_id="j",
            status=JobOutcome.DONE,
            rules_version=1,
            member_count=3,
        ),
    ).model_dump(mode="json")
    assert {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "datacontenttype",
        "dataschemaversion",
        "accountid",
        "correlationid",
    } <= body.keys()
    assert body["type"] == JOB_COMPLETED
    assert BuildMode.BUILD.value == "build"


def test_every_build_state_maps_to_one_frontend_status_and_ends_or_not():
    assert {s: (s.status, s.terminal) for s in BuildState} == {
        BuildState.REQUESTED: (BuildStatus.IN_PROGRESS, False),
        BuildState.SUBMITTED: (BuildStatus.IN_PROGRESS, False),
        BuildState.RUNNING: (BuildStatus.IN_PROGRESS, False),
        BuildState.DONE: (BuildStatus.DONE, True),
        BuildState.FAILED: (BuildStatus.FAILED, True),
        BuildState.SKIPPED: (BuildStatus.SKIPPED, True),
        BuildState.CANCELED: (BuildStatus.CANCELED, True),
    }


def test_a_message_caused_by_another_continues_its_account_and_correlation():
    cause = changed()
    started = JobStarted.caused_by(
        cause, "job-monitor", JobStartedData(build_id=uuid4(), segment_id=SEGMENT, job_id="j")
    )
    assert (started.accountid, started.correlationid) == (cause.accountid, cause.correlationid)
    assert started.id != cause.id and started.source == "job-monitor"
    again = JobStarted.caused_by(Cause.of(cause), "job-monitor", started.data, id=started.id)
    assert again.model_dump(exclude={"time"}) == started.model_dump(exclude={"time"})


def test_a_plan_builds_command_is_one_of_two_told_apart_by_scope():
    rebuild = PlanBuilds.model_validate(
        {
            **changed().model_dump(mode="json", exclude={"type", "data"}),
            "data": {"scope": "segments", "segment_ids": [str(SEGMENT)], "cause": "rebuild"},
        }
    )
    assert isinstance(rebuild.data, RebuildSegmentsData)
    refresh = PlanBuilds.model_validate(
        {**rebuild.model_dump(mode="json"), "data": {"scope": "account", "cause": "refresh"}}
    )
    assert isinstance(refresh.data, StartRefreshRunData)
    with pytest.raises(ValidationError):  # a rebuild of nothing is not a command
        PlanBuilds.model_validate(
            {**rebuild.model_dump(mode="json"), "data": {"scope": "segments", "segment_ids": []}}
        )

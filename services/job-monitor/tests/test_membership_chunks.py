"""A build's changes as ordered, bounded `membership.changed` chunks: tests as data."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from job_monitor import membership
from job_monitor.membership import BuildChanges, announcements, chunk_id
from segment_runtime.kafka import MAX_MESSAGE_BYTES


def chunks(entered: list[str], exited: list[str]) -> list[tuple[list[str], list[str]]]:
    build = uuid4()
    messages = announcements(
        account_id=uuid4(),
        correlation_id=uuid4(),
        segment_id=uuid4(),
        build_id=build,
        run_id=None,
        rules_version=3,
        built_at=datetime(2026, 1, 1, tzinfo=UTC),
        build_time=datetime(2026, 1, 1, tzinfo=UTC),
        changes=BuildChanges(len(entered), len(entered), len(exited), entered, exited),
    )
    assert [m.data.chunk for m in messages] == list(range(len(messages)))
    assert {m.data.chunks for m in messages} == {len(messages)}
    assert [m.id for m in messages] == [chunk_id(build, i) for i in range(len(messages))]
    assert all(len(m.model_dump_json()) < MAX_MESSAGE_BYTES // 2 for m in messages)
    return [(m.data.entered_ids, m.data.exited_ids) for m in messages]


@pytest.mark.parametrize(
    ("entered", "exited", "expected"),
    [
        ([], [], [([], [])]),  # a build that changed nothing is still one record
        (["a", "b"], ["c"], [(["a", "b"], ["c"])]),
        ([], ["x"], [([], ["x"])]),
    ],
)
def test_small_builds_are_one_chunk(entered, exited, expected):
    assert chunks(entered, exited) == expected


def test_a_large_build_is_cut_by_count_keeping_order(monkeypatch):
    monkeypatch.setattr(membership, "MAX_IDS_PER_CHUNK", 3)
    got = chunks(["e1", "e2", "e3", "e4"], ["x1", "x2", "x3"])
    assert got == [(["e1", "e2", "e3"], []), (["e4"], ["x1", "x2"]), ([], ["x3"])]


def test_long_ids_are_cut_by_size():
    long_ids = [f"{i:06d}" + "x" * 994 for i in range(300)]  # 1,000 bytes each
    got = chunks(long_ids, [])
    assert len(got) == 3  # 128 KB holds 127 of them
    assert [i for e, _ in got for i in e] == long_ids


def test_a_million_member_first_build_is_hundreds_of_records_not_one():
    ids = [f"c_{i:07d}" for i in range(1_000_000)]
    got = announcements(
        account_id=uuid4(),
        correlation_id=uuid4(),
        segment_id=uuid4(),
        build_id=uuid4(),
        run_id=None,
        rules_version=1,
        built_at=None,
        build_time=None,
        changes=BuildChanges(1_000_000, 1_000_000, 0, ids, []),
    )
    assert len(got) == 200
    assert sum(len(m.data.entered_ids) for m in got) == 1_000_000

"""A bucket of a segment's split, named by a request: read like a segment of its own
(its members, reach and recipient list). A name the split does not have, or a segment
with no split, is a 422 naming the request's field."""

from __future__ import annotations

from contracts.splits import Split
from segment_api.http.problems import ProblemError, field_problem
from segment_api.shared.member_queries import InBucket
from segment_api.shared.rows import SegmentRow


def _refused(code: str, message: str, path: str) -> ProblemError:
    return field_problem(422, code, "No such bucket", message, path)


def split_of(row: SegmentRow, path: str = "bucket") -> Split:
    if row.split is None:
        raise _refused("no_split", "the segment is not split into buckets", path)
    return Split.model_validate(row.split)


def bucket_of(row: SegmentRow, name: str | None, path: str = "bucket") -> InBucket | None:
    """The named bucket (None: all members)."""
    if name is None:
        return None
    split = split_of(row, path)
    bucket = split.bucket(name)
    if bucket is None:
        names = ", ".join(b.name for b in split.buckets)
        raise _refused("unknown_bucket", f"the segment's buckets are {names}", path)
    return InBucket(split, bucket)

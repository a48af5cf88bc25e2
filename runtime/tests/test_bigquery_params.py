from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from segment_runtime.bigquery import to_query_parameters


def test_scalars_get_their_bigquery_types():
    params = {
        p.name: p.type_
        for p in to_query_parameters(
            {
                "b": True,
                "i": 3,
                "f": 2.5,
                "s": "x",
                "d": date(2026, 1, 1),
                "t": datetime(2026, 1, 1, tzinfo=UTC),
            }
        )
    }
    assert params == {
        "b": "BOOL",
        "i": "INT64",
        "f": "FLOAT64",
        "s": "STRING",
        "d": "DATE",
        "t": "TIMESTAMP",
    }


def test_an_array_of_ints_and_floats_is_float64_throughout():
    (param,) = to_query_parameters({"a": [1, 2.5]})
    assert param.array_type == "FLOAT64"
    assert param.values == [1.0, 2.5]


def test_an_array_mixing_unrelated_types_is_refused():
    with pytest.raises(TypeError, match="mixes"):
        to_query_parameters({"a": ["x", 1]})

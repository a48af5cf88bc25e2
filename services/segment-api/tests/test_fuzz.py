"""No input answers 5xx. Hypothesis throws hostile JSON at the write routes: arbitrary
values wherever the older `ruleGroups` shape and the canonical rules take one, text
with NUL characters and lone surrogates, huge and non-finite numbers, deep nesting.
Every answer must be a 2xx or a 4xx problem; a 4xx must name what it refused.
(schemathesis walks every operation of the live gateway in tests/test_api_contract.py.)"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 150


def fuzz(examples: int) -> Any:
    """Hypothesis settings for these fuzzers: reproducible, no deadline, no database."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


hostile_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "g" + "9" * 5000, "", " "]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)
legacy_group = st.dictionaries(
    st.one_of(st.sampled_from(["g0", "g1", "g", "dateRangeFilter", "g00", "g-1"]), hostile_text),
    json_values,
    max_size=3,
)
condition = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["property", "metric", "event", "relationship", "segment"]),
        "field": st.one_of(st.sampled_from(["age", "city", "is_vip", "signup_date"]), hostile_text),
        "operator": st.one_of(
            st.sampled_from(["gt", "equals", "in_list", "between"]), hostile_text
        ),
        "value": json_values,
    }
)
canonical = st.fixed_dictionaries(
    {
        "object": st.one_of(st.just("customer"), hostile_text),
        "root": st.fixed_dictionaries(
            {"type": st.just("group"), "rules": st.lists(condition, max_size=3)}
        ),
    }
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {"name": hostile_text, "ruleGroups": st.lists(legacy_group, max_size=3)},
        optional={"conjunction": json_values},
    ),
    st.fixed_dictionaries({"name": hostile_text, "rules": canonical}),
    st.fixed_dictionaries({"rules": json_values}),
)


def _encode(body: Any) -> bytes:
    # Python's encoder writes lone surrogates as escapes and non-finite floats as the
    # bare words NaN/Infinity, as a careless or hostile client would.
    return json.dumps(body).encode()


@given(body=bodies, path=st.sampled_from(["/v1/segments", "/v1/segments/validate"]))
@fuzz(EXAMPLES)
async def test_no_body_makes_the_gateway_fail(client, token, body, path):
    response = await client.post(
        path, content=_encode(body), headers={**token(), "content-type": "application/json"}
    )
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        problem = response.json()
        assert problem["code"] and problem["title"], problem


@given(search=hostile_text, page=st.one_of(st.integers(), hostile_text))
@fuzz(EXAMPLES // 3)
async def test_no_query_makes_the_list_fail(client, token, search, page):
    # Percent-encoded as bytes, so lone surrogates arrive as invalid UTF-8 (as %ED%A0%80).
    query = "&".join(
        f"{k}={quote(str(v).encode('utf-8', 'surrogatepass'))}"
        for k, v in {"search": search, "page": page}.items()
    )
    response = await client.get(f"/v1/segments?{query}&x=%FF", headers=token())
    assert response.status_code < 500, (search, page, response.text)


@given(raw=st.binary(max_size=64).map(lambda b: b'{"name": "' + b + b'", "rules": 1}'))
@fuzz(EXAMPLES // 3)
async def test_no_byte_sequence_makes_the_gateway_fail(client, token, raw):
    """Invalid UTF-8 and broken JSON are refused as problems too."""
    response = await client.post(
        "/v1/segments",
        content=raw + b"\xff",
        headers={**token(), "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500, (raw, response.text)
    assert response.json()["code"]

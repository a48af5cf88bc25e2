"""Splits through the API: stored and shown, refused with the field named, edited with
the fewest moves, and a bucket embedded in other rules."""

from __future__ import annotations

import pytest

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}
SPLIT = {
    "buckets": [
        {"name": "A", "percent": 45},
        {"name": "B", "percent": 45},
        {"name": "holdout", "percent": 10},
    ]
}


async def create(client, token, name: str, **more) -> dict:
    response = await client.post(
        "/v1/segments", json={"name": name, "rules": RULES, **more}, headers=token()
    )
    assert response.status_code == 201, response.text
    return response.json()


async def stored_split(db, segment_id: str) -> dict:
    async with db.acquire() as conn:
        return await conn.fetchval("SELECT split FROM segments WHERE id = $1::uuid", segment_id)


async def test_a_split_is_stored_with_its_slots_and_shown_without_them(client, token, db):
    made = await create(client, token, "Campaign X", split=SPLIT)
    assert made["split"] == {
        "buckets": [
            {"name": "A", "percent": 45.0},
            {"name": "B", "percent": 45.0},
            {"name": "holdout", "percent": 10.0},
        ]
    }
    stored = await stored_split(db, made["id"])
    assert stored["seed"] and [b["ranges"] for b in stored["buckets"]] == [
        [[0, 4500]],
        [[4500, 9000]],
        [[9000, 10000]],
    ]


@pytest.mark.parametrize(
    ("buckets", "path"),
    [
        ([{"name": "A", "percent": 50}, {"name": "B", "percent": 40}], "split.buckets"),
        ([{"name": "A", "percent": 50}, {"name": "a", "percent": 50}], "split.buckets[1].name"),
        ([{"name": "A", "percent": 100}], "split.buckets"),
        ([{"name": f"b{i}", "percent": 100 / 3} for i in range(3)], "split.buckets[0].percent"),
    ],
)
async def test_a_split_that_cannot_be_is_a_problem_naming_it(client, token, db, buckets, path):
    response = await client.post(
        "/v1/segments",
        json={"name": "Bad split", "rules": RULES, "split": {"buckets": buckets}},
        headers=token(),
    )
    assert response.status_code == 422, response.text
    assert path in [e["path"] for e in response.json()["errors"]]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segments") == 0


async def test_the_plan_caps_the_buckets(client, token):
    six = {
        "buckets": [{"name": f"b{i}", "percent": p} for i, p in enumerate([20, 20, 20, 20, 10, 10])]
    }
    response = await client.post(
        "/v1/segments", json={"name": "Six ways", "rules": RULES, "split": six}, headers=token()
    )
    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("split.buckets", "limit_exceeded")
    ]


async def test_new_percentages_move_only_the_slots_they_must_and_rebuild(client, token, db):
    made = await create(client, token, "Campaign Y", split=SPLIT)
    before = await stored_split(db, made["id"])
    wider = {
        "buckets": [
            {"name": "A", "percent": 40},
            {"name": "B", "percent": 45},
            {"name": "holdout", "percent": 15},
        ]
    }
    edited = await client.patch(
        f"/v1/segments/{made['id']}", json={"split": wider}, headers=token()
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["rules_version"] == made["rules_version"] + 1  # embedders follow
    after = await stored_split(db, made["id"])
    assert after["seed"] == before["seed"]
    ranges = {b["name"]: b["ranges"] for b in after["buckets"]}
    # A gave up 5 % (its last slots), the holdout took exactly those
    assert ranges == {
        "A": [[0, 4000]],
        "B": [[4500, 9000]],
        "holdout": [[4000, 4500], [9000, 10000]],
    }
    same = await client.patch(f"/v1/segments/{made['id']}", json={"split": wider}, headers=token())
    assert same.json()["rules_version"] == edited.json()["rules_version"]  # nothing moved
    removed = await client.patch(
        f"/v1/segments/{made['id']}", json={"split": None}, headers=token()
    )
    assert removed.json()["split"] is None


def embedding(segment_id: str, bucket: str) -> dict:
    return {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {
                    "type": "segment",
                    "segment_id": segment_id,
                    "operator": "not_in",
                    "bucket": bucket,
                }
            ],
        },
    }


async def test_a_bucket_is_embedded_like_a_segment(client, token):
    x = await create(client, token, "Campaign Z", split=SPLIT)
    plain = await create(client, token, "Plain")
    ok = await client.post(
        "/v1/segments",
        json={"name": "Not in Z's holdout", "rules": embedding(x["id"], "holdout")},
        headers=token(),
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["rules"]["root"]["rules"][0]["bucket"] == "holdout"
    for segment_id, bucket, code in (
        (x["id"], "C", "unknown_bucket"),
        (plain["id"], "A", "no_split"),
    ):
        bad = await client.post(
            "/v1/segments",
            json={"name": f"Bad {code}", "rules": embedding(segment_id, bucket)},
            headers=token(),
        )
        assert bad.status_code == 422
        assert [(e["path"], e["code"]) for e in bad.json()["errors"]] == [
            ("rules.root.rules[0].bucket", code)
        ]


async def test_an_unsplit_segment_has_no_buckets_to_read(client, token):
    plain = await create(client, token, "Unsplit")
    response = await client.get(f"/v1/segments/{plain['id']}/buckets", headers=token())
    assert response.status_code == 422
    assert response.json()["code"] == "no_split"
    unknown = await client.get(
        f"/v1/segments/{plain['id']}/reachability", params={"bucket": "A"}, headers=token()
    )
    assert unknown.status_code == 422

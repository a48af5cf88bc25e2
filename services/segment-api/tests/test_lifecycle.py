"""Edit, archive, delete, duplicate and rebuild, with the embedding rules enforced."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from build_records import record_build
from segment_runtime.auth import Access, Scope


def rules(*embedded: str, age: int = 30) -> dict:
    conditions = [{"type": "property", "field": "age", "operator": "gt", "value": age}]
    conditions += [{"type": "segment", "segment_id": e} for e in embedded]
    return {"object": "customer", "root": {"type": "group", "rules": conditions}}


async def create(client, headers, name, *embedded) -> dict:
    response = await client.post(
        "/v1/segments", json={"name": name, "rules": rules(*embedded)}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def messages(db) -> list[tuple[str, dict]]:
    """Outbox messages, leaving out those about each account's default All Data."""
    async with db.acquire() as conn:
        defaults = {
            str(r["id"]) for r in await conn.fetch("SELECT id FROM segments WHERE NOT is_custom")
        }
        rows = await conn.fetch("SELECT topic, key, payload FROM outbox ORDER BY seq")
    return [(r["topic"], r["payload"]["data"]) for r in rows if r["key"] not in defaults]


async def test_an_embedded_segment_cannot_be_deleted_or_archived(client, token, db):
    h = token()
    child = await create(client, h, "Child")
    parent = await create(client, h, "Parent", child["id"])
    for response in (
        await client.delete(f"/v1/segments/{child['id']}", headers=h),
        await client.post(f"/v1/segments/{child['id']}/archive", headers=h),
    ):
        assert response.status_code == 422
        assert response.json()["code"] == "embedded_by_others"
        assert "Parent" in response.json()["detail"]
    assert (await client.delete(f"/v1/segments/{parent['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/v1/segments/{child['id']}", headers=h)).status_code == 204
    assert [d["change"] for t, d in await messages(db) if t == "segment.changed"] == [
        "created",
        "created",
        "deleted",
        "deleted",
    ]


async def test_an_edit_that_closes_a_cycle_is_refused_with_its_path(client, token):
    h = token()
    a = await create(client, h, "A")
    b = await create(client, h, "B", a["id"])
    response = await client.patch(
        f"/v1/segments/{a['id']}", json={"rules": rules(b["id"])}, headers=h
    )
    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("rules.root.rules[1].segment_id", "embedding_cycle")
    ]


async def test_concurrent_edits_cannot_together_close_a_cycle(client, token, db):
    h = token()
    a, b = await create(client, h, "A"), await create(client, h, "B")
    results = await asyncio.gather(
        client.patch(f"/v1/segments/{a['id']}", json={"rules": rules(b["id"])}, headers=h),
        client.patch(f"/v1/segments/{b['id']}", json={"rules": rules(a["id"])}, headers=h),
    )
    assert sorted(r.status_code for r in results) == [200, 422]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segment_embeddings") == 1


async def test_embedding_another_accounts_segment_is_refused(client, token):
    theirs = await create(client, token(account=uuid4()), "Theirs")
    response = await client.post(
        "/v1/segments", json={"name": "Mine", "rules": rules(theirs["id"])}, headers=token()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "embedding_not_found"


async def test_a_rename_does_not_rebuild_and_new_rules_do(client, token, db):
    h = token()
    s = await create(client, h, "Before")
    renamed = await client.patch(f"/v1/segments/{s['id']}", json={"name": "After"}, headers=h)
    assert renamed.json()["name"] == "After" and renamed.json()["rules_version"] == 1
    edited = await client.patch(f"/v1/segments/{s['id']}", json={"rules": rules(age=50)}, headers=h)
    assert edited.json()["rules_version"] == 2
    # new rules that no build has taken up yet: waiting for the scheduler
    assert edited.json()["build_status"] == "pending"
    changes = [
        (d["change"], d["rules_changed"], d["rules_version"])
        for t, d in await messages(db)
        if t == "segment.changed"
    ]
    assert changes == [("created", True, 1), ("updated", False, 1), ("updated", True, 2)]


async def test_archive_unarchive_duplicate_and_rebuild(client, token, db):
    h = token()
    s = await create(client, h, "Loyal")
    archived = await client.post(f"/v1/segments/{s['id']}/archive", headers=h)
    assert archived.json()["status"] == "archived"
    assert (await client.post(f"/v1/segments/{s['id']}/rebuild", headers=h)).status_code == 422
    assert (await client.post(f"/v1/segments/{s['id']}/unarchive", headers=h)).json()[
        "status"
    ] == "active"
    first = await client.post(f"/v1/segments/{s['id']}/duplicate", headers=h)
    second = await client.post(f"/v1/segments/{s['id']}/duplicate", headers=h)
    assert [first.json()["name"], second.json()["name"]] == ["Copy of Loyal", "Copy of Loyal (2)"]
    assert first.json()["rules"] == s["rules"]
    assert (await client.post(f"/v1/segments/{s['id']}/rebuild", headers=h)).status_code == 202
    # the gateway asks the scheduler (it decides nothing about builds itself)
    assert [t for t, _ in await messages(db) if t == "build.requested"] == []
    requests = [d for t, d in await messages(db) if t == "cascade.requested"]
    assert requests == [
        {"scope": "segments", "segment_ids": [s["id"]], "cause": "rebuild", "run_id": None}
    ]


async def test_owned_scopes_act_on_own_segments_only(client, token):
    mine = await create(client, token(user="owner"), "Mine")
    other = token(
        user="other",
        permissions={
            Scope.VIEW: Access.ALL,
            Scope.MANAGE: Access.OWNED,
            Scope.ARCHIVED: Access.OWNED,
            Scope.ADD: Access.ALL,
        },
    )
    for method, path in (("patch", ""), ("delete", ""), ("post", "/archive"), ("post", "/rebuild")):
        kwargs = {"json": {"name": "x"}} if method == "patch" else {}
        response = await getattr(client, method)(
            f"/v1/segments/{mine['id']}{path}", headers=other, **kwargs
        )
        assert response.status_code == 403, (method, path)


async def test_another_account_gets_404_on_every_segment_route(client, token):
    mine = await create(client, token(), "Mine")
    intruder = token(account=uuid4())
    routes = [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/archive"),
        ("post", "/unarchive"),
        ("post", "/duplicate"),
        ("post", "/rebuild"),
    ]
    for method, path in routes:
        kwargs = {"json": {"name": "x"}} if method == "patch" else {}
        response = await getattr(client, method)(
            f"/v1/segments/{mine['id']}{path}", headers=intruder, **kwargs
        )
        assert response.status_code == 404, (method, path, response.text)


async def test_every_account_gets_an_all_data_segment_that_stays_fixed(client, token, db):
    h = token()
    listed = (await client.get("/v1/segments", headers=h)).json()
    (default,) = listed["items"]
    assert (default["name"], default["is_custom"], default["rules"]) == ("All Data", False, None)
    assert (await client.get("/v1/segments", headers=h)).json()["total"] == 1  # made once
    async with db.acquire() as conn:
        announced = await conn.fetchval("SELECT count(*) FROM outbox WHERE key = $1", default["id"])
    assert announced == 1  # so the compiler builds it
    for method, path in (("patch", ""), ("delete", ""), ("post", "/archive")):
        kwargs = {"json": {"name": "x"}} if method == "patch" else {}
        response = await getattr(client, method)(
            f"/v1/segments/{default['id']}{path}", headers=h, **kwargs
        )
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "default_segment"
    assert (
        await client.post(f"/v1/segments/{default['id']}/rebuild", headers=h)
    ).status_code == 202


async def test_the_list_filters_searches_sorts_and_pages(client, token):
    h = token()
    for name in ("Zeta buyers", "alpha buyers", "Mid"):
        await create(client, h, name)
    archived = await create(client, h, "Old buyers")
    await client.post(f"/v1/segments/{archived['id']}/archive", headers=h)

    async def names(**params) -> list[str]:
        body = (await client.get("/v1/segments", params=params, headers=h)).json()
        return [i["name"] for i in body["items"]]

    assert await names(search="BUYERS", status="active", sort="name") == [
        "alpha buyers",
        "Zeta buyers",
    ]
    assert await names(status="archived") == ["Old buyers"]
    assert await names(sort="-name", per_page=2, page=1) == ["All Data", "Zeta buyers"]
    assert await names(object="session") == []
    assert await names(created_at_from="2999-01-01T00:00:00Z") == []
    bad = await client.get("/v1/segments", params={"sort": "password"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.sort"


async def test_refresh_all_asks_the_scheduler_for_a_run_over_the_account(client, token, db):
    h = token()
    await create(client, h, "A")
    b = await create(client, h, "B")
    await client.post(f"/v1/segments/{b['id']}/archive", headers=h)
    run = await client.post("/v1/segments/refresh-all", headers=h)
    assert run.status_code == 202
    async with db.acquire() as conn:
        asked = [
            (r["key"], r["payload"]["data"])
            for r in await conn.fetch(
                "SELECT key, payload FROM outbox WHERE topic = 'cascade.requested'"
            )
        ]
        account = await conn.fetchval("SELECT account_id FROM segments LIMIT 1")
    assert asked == [
        (
            str(account),
            {
                "scope": "account",
                "segment_ids": [],
                "cause": "refresh",
                "run_id": run.json()["run_id"],
            },
        )
    ]
    assert run.json()["segments"] == 2  # A and All Data; B is archived
    owned = token(permissions={Scope.MANAGE: Access.OWNED, Scope.VIEW: Access.ALL})
    assert (await client.post("/v1/segments/refresh-all", headers=owned)).status_code == 403


async def test_embeddable_excludes_itself_and_anything_that_would_close_a_cycle(client, token, db):
    h = token()
    a = await create(client, h, "A")
    b = await create(client, h, "B", a["id"])  # B embeds A
    c = await create(client, h, "C")
    async with db.acquire() as conn:
        await record_build(conn, UUID(c["id"]), state="failed", reason="boom")
        await record_build(conn, UUID(a["id"]), member_count=1)
    for_a = (await client.get(f"/v1/segments/{a['id']}/embeddable", headers=h)).json()
    assert {s["name"]: s["warning"] for s in for_a} == {"C": "its last build failed"}
    for_new = (await client.get("/v1/segments/embeddable", headers=h)).json()
    assert sorted(s["name"] for s in for_new) == ["A", "B", "C"]  # never All Data
    assert (
        await client.get("/v1/segments/embeddable", params={"object": "session"}, headers=h)
    ).json() == []
    assert b["id"] in {s["id"] for s in for_new}

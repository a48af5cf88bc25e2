"""Preview, detail and members through the gateway, against the emulator, checked
against the reference evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import membership_log
import pytest
from redis.asyncio import Redis

from build_records import record_build
from compiler import statements
from compiler.sql import Target
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id, segment_table
from devstack import seeding
from reference import Evaluator
from segment_api.http.app import create_app, wire
from segment_api.settings import Settings
from segment_api.shared.warehouse import BigQueryWarehouse
from segment_runtime.auth import issue_token

SECRET = "insights-test-secret-long-enough-for-hs256"
CUSTOMERS = 200
ZONE = "Asia/Jakarta"
TODAY = datetime.now(ZoneInfo(ZONE)).date()  # the account's today, as the gateway counts it
RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [
            {"type": "property", "field": "age", "operator": "gte", "value": 35},
            {
                "type": "group",
                "combinator": "or",
                "rules": [
                    {"type": "property", "field": "city", "operator": "equals", "value": "jakarta"},
                    {"type": "metric", "metric": "orders_total", "operator": "gte", "value": 2},
                ],
            },
        ],
    },
}


@pytest.fixture(scope="module")
def warehouse_data(emulator):
    client = emulator.client()
    account = uuid4()
    tables = seeding.seed_warehouse(client, account, CUSTOMERS, seed=9, today=TODAY)
    return client, account, tables


@pytest.fixture
async def api(warehouse_data, db, database_url):
    client, account, tables = warehouse_data
    await seeding.ensure_account(database_url, account, "insights", ZONE)
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "JWT_SECRET": SECRET,
            "PUSHER_APP_ID": "1",
            "PUSHER_KEY": "k",
            "PUSHER_SECRET": "s",
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": 1,
            "BIGQUERY_PROJECT": client.project,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": f"insights{uuid4().hex[:8]}",
            "PREVIEW_BUDGET_S": 30,
        }
    )
    app = create_app(settings)
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    # the gateway's one bootstrap, over the emulator
    wire(app, settings, db, BigQueryWarehouse(client), redis)
    app.state.limiter = None
    headers = {"Authorization": "Bearer " + issue_token(SECRET, account_id=account, user_id="u")}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api", headers=headers
    ) as http:
        yield http, client, account, tables
    await redis.aclose()


def evaluator(tables) -> Evaluator:
    return Evaluator(seeding.demo_catalog(), tables, TODAY)


async def build_saved(http, client, account, db, tables, rules) -> str:
    """What the compiler and job monitor would do for a saved segment, done directly."""
    created = (
        await http.post("/v1/segments", json={"name": f"s{uuid4().hex[:6]}", "rules": rules})
    ).json()
    rule_set = RuleSet.model_validate(rules)
    target = Target(client.project, dataset_id(account))
    m = statements.membership(rule_set, target, seeding.demo_catalog())
    membership_log.build(
        client,
        m,
        segment_table(UUID(created["id"])),
        build_id=uuid4(),
        when=datetime.now(UTC),
        today=TODAY,
    )
    async with db.acquire() as conn:
        await record_build(
            conn, UUID(created["id"]), member_count=len(evaluator(tables).members(rule_set))
        )
    return created["id"]


async def test_preview_matches_the_evaluator(api):
    http, _, _, tables = api
    response = await http.post("/v1/segments/preview", json={"rules": RULES, "sample_size": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = evaluator(tables).members(RuleSet.model_validate(RULES))
    assert body["total_matched"] == len(expected)
    assert body["total_base"] == CUSTOMERS
    assert body["percentage"] == round(100 * len(expected) / CUSTOMERS, 2)
    assert [s["object_id"] for s in body["sample"]] == sorted(expected)[:5]
    nodes = evaluator(tables).node_counts(RuleSet.model_validate(RULES))
    assert {n["path"]: n["matched"] for n in body["nodes"]} == nodes


async def test_a_repeated_preview_is_answered_from_the_cache_without_compiling(api, monkeypatch):
    http, *_ = api
    compiled: list[object] = []
    compile_rules = statements.membership

    def counting(*args: object, **kwargs: object) -> statements.Membership:
        compiled.append(args[0])
        return compile_rules(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(statements, "membership", counting)
    first = await http.post("/v1/segments/preview", json={"rules": RULES})
    again = await http.post("/v1/segments/preview", json={"rules": RULES})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(compiled) == 1  # the second was the cached answer: neither typed nor compiled


async def test_detail_members_and_edit_diff_of_a_built_segment(api, db):
    http, client, account, tables = api
    segment_id = await build_saved(http, client, account, db, tables, RULES)
    members = evaluator(tables).members(RuleSet.model_validate(RULES))
    rows = [r for r in tables["customers"] if r["customer_id"] in members]

    detail = (await http.get(f"/v1/segments/{segment_id}/detail")).json()
    assert (detail["total_matched"], detail["total_base"]) == (len(members), CUSTOMERS)
    whatsapp = sum(1 for r in rows if r["phone"] and r["whatsapp_opt_in"] is True)
    email = sum(1 for r in rows if r["email"] and r["email_opt_in"] is True)
    assert detail["reachability"]["whatsapp"]["reachable"] == whatsapp
    assert detail["reachability"]["email"]["reachable"] == email

    page = (
        await http.get(f"/v1/segments/{segment_id}/members", params={"page": 2, "per_page": 3})
    ).json()
    assert [i["object_id"] for i in page["items"]] == sorted(members)[3:6]
    assert page["total"] == len(members)
    assert {"full_name", "email", "phone", "city"} <= page["items"][0].keys()
    # the RFC's matched-customer table
    assert {"name", "source", "last_activity", "added_by"} <= page["items"][0].keys()
    assert (
        detail["reachability"]["whatsapp_pct"] == detail["reachability"]["whatsapp"]["percentage"]
    )

    # within the viewer's customer scope: those they added, or none
    from segment_runtime.auth import ALL_ACCESS, Access, Scope

    def scoped(access: Access) -> dict[str, str]:
        token = issue_token(
            SECRET,
            account_id=account,
            user_id="ana",
            permissions={**ALL_ACCESS, Scope.CUSTOMERS: access},
        )
        return {"Authorization": f"Bearer {token}"}

    added_by_ana = sorted(r["customer_id"] for r in rows if r["created_by"] == "ana")
    assert 0 < len(added_by_ana) < len(members)
    own = (
        await http.get(
            f"/v1/segments/{segment_id}/members",
            params={"per_page": 100},
            headers=scoped(Access.OWNED),
        )
    ).json()
    assert [i["object_id"] for i in own["items"]] == added_by_ana
    assert own["total"] == len(added_by_ana)
    assert {i["added_by"] for i in own["items"]} == {"ana"}
    none = (
        await http.get(f"/v1/segments/{segment_id}/members", headers=scoped(Access.DISABLED))
    ).json()
    assert (none["items"], none["total"]) == ([], 0)

    edited = {**RULES, "root": {**RULES["root"], "rules": RULES["root"]["rules"][:1]}}
    diff = (
        await http.post(
            "/v1/segments/preview",
            json={"rules": edited, "segment_id": segment_id, "sample_size": 0},
        )
    ).json()["edit_diff"]
    after = evaluator(tables).members(RuleSet.model_validate(edited))
    assert (diff["would_enter"], diff["would_exit"]) == (
        len(after - members),
        len(members - after),
    )
    # beside the counts, a few of who would enter and exit (id order), with their names
    assert [r["object_id"] for r in diff["would_enter_sample"]] == sorted(after - members)[:5]
    assert [r["object_id"] for r in diff["would_exit_sample"]] == sorted(members - after)[:5]
    named = {r["customer_id"]: r["full_name"] for r in tables["customers"]}
    assert all(r["full_name"] == named[r["object_id"]] for r in diff["would_enter_sample"])

    await http.post(f"/v1/segments/{segment_id}/archive")
    archived = (await http.get(f"/v1/segments/{segment_id}/detail")).json()
    assert archived["reachability"] is None
    assert archived["total_matched"] == len(members)


async def test_the_palette_shows_catalog_registered_and_discovered_fields(api, database_url, db):
    http, _client, account, _tables = api
    palette = (await http.get("/v1/objects/customer/fields")).json()
    fields = {f["name"]: f for f in palette["fields"]}
    assert fields["tags"]["operators"] == [
        "contains_any",
        "contains_all",
        "contains_none",
        "is_empty",
        "is_not_empty",
    ]
    assert fields["cf_shoe_size"]["discovered"] is False  # registered for this account
    assert "company_id" not in fields  # references are relations, not fields
    assert {"recency_days", "total_spent"} <= {m["name"] for m in palette["metrics"]}
    web = next(e for e in palette["events"] if e["name"] == "web_conversion")
    assert "signup" in web["names"]
    assert palette["channels"] == ["whatsapp", "email"]

    async with db.acquire() as conn:  # forget the registry: the columns are still there
        await conn.execute("DELETE FROM custom_fields WHERE account_id = $1", account)
    await http.post("/v1/segments", json={"name": "bump", "rules": RULES})  # new generation
    discovered = {
        f["name"]: f
        for f in (await http.get("/v1/objects/customer/fields")).json()["fields"]
        if f["discovered"]
    }
    assert discovered["cf_interests"]["type"] == "multiple_select"
    assert discovered["cf_shoe_size"]["type"] == "number"


async def test_field_values_count_what_the_table_holds(api):
    http, _, _, tables = api
    body = (await http.get("/v1/objects/customer/fields/source/values")).json()
    counts: dict[str, int] = {}
    for row in tables["customers"]:
        if row["source"] is not None:
            counts[row["source"]] = counts.get(row["source"], 0) + 1
    assert {p["value"]: p["count"] for p in body["popular"]} == counts
    assert body["unique_count"] == len(counts)
    assert body["sample"] == sorted(counts)
    tags = (await http.get("/v1/objects/customer/fields/tags/values")).json()
    assert tags["unique_count"] == len({t for r in tables["customers"] for t in r["tags"]})
    missing = await http.get("/v1/objects/customer/fields/password/values")
    assert missing.status_code == 404


async def test_performance_shows_growth_and_distributions(api, db):
    http, client, account, tables = api
    segment_id = await build_saved(http, client, account, db, tables, RULES)
    async with db.acquire() as conn:
        await conn.execute("DELETE FROM builds WHERE segment_id = $1", UUID(segment_id))
        for i, members in enumerate((10, 14, 12)):
            await record_build(
                conn,
                UUID(segment_id),
                member_count=members,
                entered=2,
                exited=1,
                built_at=datetime.now(UTC) - timedelta(days=3 - i),
            )
        await record_build(conn, UUID(segment_id), state="failed", reason="boom")
    body = (await http.get(f"/v1/segments/{segment_id}/performance")).json()
    assert [g["members"] for g in body["growth"]] == [10, 14, 12]  # failed builds left out
    members = evaluator(tables).members(RuleSet.model_validate(RULES))
    rows = [r for r in tables["customers"] if r["customer_id"] in members]
    gender = {b["bucket"]: b["members"] for b in body["distributions"]["gender"]}
    assert gender == {
        g: sum(1 for r in rows if (r["gender"] or "unknown") == g)
        for g in {r["gender"] or "unknown" for r in rows}
    }
    bands = {b["bucket"]: b["members"] for b in body["distributions"]["age_band"]}
    assert sum(bands.values()) == len(members)
    assert bands.get("under 18", 0) == sum(
        1 for r in rows if r["age"] is not None and r["age"] < 18
    )
    assert set(body["distributions"]) == {"source", "domicile", "age_band", "gender"}


async def test_changes_and_members_as_of_a_past_build(api, db):
    """Two builds of one segment (an edit between them): the changes route lists each
    build's entries and exits with names, pages by cursor and filters; members as of the
    first build are the first build's members."""
    http, client, account, tables = api
    created = (
        await http.post("/v1/segments", json={"name": f"c{uuid4().hex[:6]}", "rules": RULES})
    ).json()
    segment_id = UUID(created["id"])
    target = Target(client.project, dataset_id(account))
    table = segment_table(segment_id)
    edited = {**RULES, "root": {**RULES["root"], "rules": RULES["root"]["rules"][:1]}}
    ev = evaluator(tables)
    first, second = (
        ev.members(RuleSet.model_validate(RULES)),
        ev.members(RuleSet.model_validate(edited)),
    )
    t1, t2 = datetime(2026, 6, 1, 3, tzinfo=UTC), datetime(2026, 6, 2, 3, tzinfo=UTC)
    b1, b2 = uuid4(), uuid4()
    for rules, build_id, at, members in ((RULES, b1, t1, first), (edited, b2, t2, second)):
        m = statements.membership(RuleSet.model_validate(rules), target, seeding.demo_catalog())
        membership_log.build(client, m, table, build_id=build_id, when=at, today=TODAY)
        async with db.acquire() as conn:
            await record_build(
                conn, segment_id, member_count=len(members), build_id=build_id, build_time=at
            )
    url = f"/v1/segments/{segment_id}"

    everything = (await http.get(f"{url}/changes", params={"limit": 500})).json()
    expected = [("entered", c, b2) for c in sorted(second - first)]
    expected += [("exited", c, b2) for c in sorted(first - second)]
    expected.sort(key=lambda e: e[1])
    expected += [("entered", c, b1) for c in sorted(first)]
    got = [(i["change"], i["object_id"], UUID(i["build_id"])) for i in everything["items"]]
    assert got == expected  # newest first, then by member id
    assert everything["next_cursor"] is None
    names = {r["customer_id"]: r["full_name"] for r in tables["customers"]}
    assert all(i["full_name"] == names[i["object_id"]] for i in everything["items"])

    # paging by cursor gives the same list, page after page
    paged, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await http.get(f"{url}/changes", params=params)).json()
        paged += [(i["change"], i["object_id"], UUID(i["build_id"])) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == expected

    exits = (await http.get(f"{url}/changes", params={"change": "exited"})).json()
    assert {i["object_id"] for i in exits["items"]} == first - second
    of_b1 = (await http.get(f"{url}/changes", params={"build_id": str(b1), "limit": 500})).json()
    assert {i["object_id"] for i in of_b1["items"]} == first
    window = (
        await http.get(
            f"{url}/changes",
            params={"since": t2.isoformat(), "until": (t2 + timedelta(hours=1)).isoformat()},
        )
    ).json()
    assert {i["build_id"] for i in window["items"]} == {str(b2)}

    as_of = (
        await http.get(f"{url}/members", params={"as_of_build": str(b1), "per_page": 100})
    ).json()
    assert [i["object_id"] for i in as_of["items"]] == sorted(first)[:100]
    assert as_of["total"] == len(first)
    now = (await http.get(f"{url}/members", params={"per_page": 100})).json()
    assert [i["object_id"] for i in now["items"]] == sorted(second)[:100]
    assert len(first) != len(second)

    # bad input names what is wrong
    unknown = uuid4()
    missing = await http.get(f"{url}/changes", params={"build_id": str(unknown)})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["path"] == "build_id"
    assert str(unknown) in missing.json()["detail"]
    bad = await http.get(f"{url}/changes", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "cursor"
    gone = await http.get(f"{url}/members", params={"as_of_build": str(unknown)})
    assert gone.status_code == 404
    async with db.acquire() as conn:
        failed = await record_build(conn, segment_id, state="failed", reason="boom")
    refused = await http.get(f"{url}/members", params={"as_of_build": str(failed)})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "as_of_build"

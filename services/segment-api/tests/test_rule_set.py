"""The CRM frontend's rule_set on the routes it uses: created, read back in the same
rows, edited, previewed; its errors name the row the frontend shows; its plan limits
count rows and groups as the frontend does."""

from __future__ import annotations

from copy import deepcopy

from contracts.criteria import RULE_SET_EXAMPLE


def rows(*items: dict) -> dict:
    return {"criteria": list(items)}


CITY = {"field": "city", "fieldType": "single_line_text", "condition": "equals", "value": "x"}
AGE = {"field": "age", "fieldType": "number", "condition": "gt", "value": 30, "operator": "or"}
VIP = {"field": "is_vip", "fieldType": "boolean", "condition": "is_not", "value": True}


async def test_a_segment_created_from_rows_reads_back_in_the_same_rows(client, token):
    h = token()
    made = await client.post(
        "/v1/segments",
        json={"name": "Jakarta", "description": "d", "rule_set": RULE_SET_EXAMPLE},
        headers=h,
    )
    assert made.status_code == 201, made.text
    shown = (await client.get(f"/v1/segments/{made.json()['id']}", headers=h)).json()
    sent = deepcopy(RULE_SET_EXAMPLE)
    back = shown["rule_set"]
    assert [len(g["criteria"]) for g in back["groups"]] == [2, 1]
    for got, want in zip(
        (r for g in back["groups"] for r in g["criteria"]),
        (r for g in sent["groups"] for r in g["criteria"]),
        strict=True,
    ):
        assert {k: got[k] for k in want if k != "operator"} == {
            k: v for k, v in want.items() if k != "operator"
        }
    assert shown["rules"]["object"] == "customer"  # the canonical form is there too
    assert shown["rule_set_note"] is None
    # the list (sent from the cache as stored) uses the RFC's names too
    for _ in range(2):  # a miss, then a hit
        listed = (await client.get("/v1/segments", headers=h)).json()["items"]
        item = next(i for i in listed if i["id"] == made.json()["id"])
        assert item["rule_set"]["groups"][0]["criteria"][0]["fieldType"] == "single_line_text"
        again = (await client.get(f"/v1/segments/{made.json()['id']}", headers=h)).json()
        assert again == shown


async def test_an_edit_in_rows_replaces_the_rules(client, token):
    h = token()
    made = (
        await client.post(
            "/v1/segments", json={"name": "E", "rule_set": {"groups": [rows(CITY)]}}, headers=h
        )
    ).json()
    edited = await client.patch(
        f"/v1/segments/{made['id']}",
        json={"rule_set": {"groups": [rows(CITY, AGE)], "operator": "and"}},
        headers=h,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["rules_version"] == made["rules_version"] + 1
    assert [r["field"] for r in body["rule_set"]["groups"][0]["criteria"]] == ["city", "age"]


async def test_a_bad_row_is_named_by_its_path(client, token):
    bad_value = {**AGE, "value": "thirty"}
    answer = await client.post(
        "/v1/segments",
        json={"name": "bad", "rule_set": {"groups": [rows(CITY), rows(bad_value)]}},
        headers=token(),
    )
    assert answer.status_code == 422
    assert [(e["path"], e["code"]) for e in answer.json()["errors"]] == [
        ("rule_set.groups[1].criteria[0].value", "invalid_value")
    ]
    unknown = {**CITY, "field": "shoe_size"}
    answer = await client.post(
        "/v1/segments/preview",
        json={"rule_set": {"groups": [rows(CITY, unknown)]}},
        headers=token(),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "rule_set.groups[0].criteria[1].field"


async def test_the_rfc_plan_counts_rows_and_groups_as_the_frontend_does(
    client, token, db, account_id
):
    async with db.acquire() as conn:
        await client.get("/v1/segments", headers=token())  # provisions the account
        await conn.execute("UPDATE accounts SET plan = 'plus' WHERE id = $1", account_id)
    h = token()
    # 2 groups of 3 rows, mixed AND/OR and an is_not: fine on the RFC's plan
    full = {"groups": [rows(CITY, AGE, VIP), rows(CITY, {**AGE, "operator": "and"}, VIP)]}
    made = await client.post("/v1/segments", json={"name": "full", "rule_set": full}, headers=h)
    assert made.status_code == 201, made.text
    too_many_rows = {"groups": [rows(CITY, AGE, VIP, CITY)]}
    answer = await client.post("/v1/segments/validate", json={"rule_set": too_many_rows}, headers=h)
    assert answer.status_code == 200  # validate answers with every error, not a 422
    assert answer.json()["valid"] is False
    assert answer.json()["errors"][0]["path"] == "rule_set.groups[0].criteria"
    too_many_groups = {"groups": [rows(CITY), rows(CITY), rows(CITY)]}
    answer = await client.post(
        "/v1/segments", json={"name": "three", "rule_set": too_many_groups}, headers=h
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0] == {
        "path": "rule_set.groups",
        "code": "limit_exceeded",
        "message": "at most 2 groups on this plan",
    }


async def test_a_tree_the_rows_cannot_show_says_so(client, token):
    rules = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "event", "event": "web_conversion", "operator": "gte", "value": 1}],
        },
    }
    made = await client.post("/v1/segments", json={"name": "ev", "rules": rules}, headers=token())
    assert made.status_code == 201, made.text
    assert made.json()["rule_set"] is None
    assert "event conditions" in made.json()["rule_set_note"]


async def test_the_customer_palette_speaks_the_rows_language(client, token):
    answer = await client.get("/v1/customers/fields", headers=token())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    fields = {f["id"]: f for f in body["fields"]}
    assert fields["city"]["fieldType"] == "single_line_text"
    assert fields["email_opt_in"]["fieldCategory"] == "consent"
    assert fields["is_vip"]["conditions"] == ["is", "is_not", "is_empty", "is_not_empty"]
    assert "equals" in fields["city"]["conditions"]
    assert body["associations"] and all(
        g["fieldCategory"] == "association" and g["items"] for g in body["associations"]
    )
    rfm = next(g for g in body["metrics"] if g["label"] == "RFM")
    # every item is a row the server accepts, with the conditions offered
    item = rfm["items"][0]
    row = {
        "field": item["id"],
        "fieldType": item["field_type"],
        "fieldCategory": "metric",
        "condition": rfm["conditions"][0],
        "value": 1,
    }
    city = fields["city"]
    rows = [
        row,
        {"field": "city", "fieldType": city["fieldType"], "condition": "equals", "value": "x"},
    ]
    checked = await client.post(
        "/v1/segments/validate",
        json={"rule_set": {"groups": [{"criteria": rows}]}},
        headers=token(),
    )
    assert checked.json().get("errors") in (None, []), checked.text

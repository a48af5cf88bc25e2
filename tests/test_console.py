"""The web console in headless Chromium against the real stack, as a person uses it:
build a segment with two groups and a nested condition, watch the live preview agree
with the API's, save, watch the row go building → done with no reload, open the detail
and see its members and charts; and a user without the add scope is offered no create
button. Screenshots of each screen go to .state/artifacts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Page, Request, expect

from browser import artifact, chromium
from e2e import DEADLINE_S, api, wait_for
from segment_runtime.auth import Access, Scope

pytestmark = pytest.mark.stack

# The tree the test builds by hand in the builder, as the API must receive it.
EXPECTED_ROOT: dict[str, Any] = {
    "type": "group",
    "combinator": "and",
    "negate": False,
    "window": None,
    "rules": [
        {"type": "property", "field": "age", "operator": "gt", "value": 25},
        {
            "type": "group",
            "combinator": "or",
            "negate": False,
            "window": None,
            "rules": [
                {"type": "property", "field": "city", "operator": "equals", "value": "Jakarta"},
                {
                    "type": "property",
                    "field": "tags",
                    "operator": "contains_any",
                    "value": ["newsletter"],
                },
                {
                    "type": "group",
                    "combinator": "and",
                    "negate": False,
                    "window": None,
                    "rules": [
                        {
                            "type": "property",
                            "field": "is_vip",
                            "operator": "is_true",
                            "value": None,
                        },
                        {
                            "type": "property",
                            "field": "gender",
                            "operator": "equals",
                            "value": "female",
                        },
                    ],
                },
            ],
        },
        {
            "type": "group",
            "combinator": "and",
            "negate": True,
            "window": None,
            "rules": [
                {"type": "property", "field": "source", "operator": "equals", "value": "import"}
            ],
        },
    ],
}
NESTED = "rules.root.rules[1].rules[2]"

# Every state a segment row shows, in order, kept by the page itself: a reload would
# lose it, which is how the test knows there was none.
RECORD_STATUSES = """
window.__statuses = {};
new MutationObserver(() => {
  for (const row of document.querySelectorAll('[data-testid=segment-row]')) {
    const status = row.querySelector('[data-testid=build-status]')?.dataset.status;
    const seen = (window.__statuses[row.dataset.segmentId] ||= []);
    if (status && seen[seen.length - 1] !== status) seen.push(status);
  }
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""


@contextlib.asynccontextmanager
async def open_console(
    stack, token: str, ready: str = "[data-testid=segment-table]"
) -> AsyncIterator[Page]:
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1360, "height": 1000})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
                else None
            ),
        )
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.add_init_script(RECORD_STATUSES)
        await page.goto(f"{stack.api}/console/sign-in#token={token}")
        await page.wait_for_selector(ready, timeout=30_000)
        assert "token=" not in page.url  # the fragment is wiped once traded for the cookie
        yield page
        assert outside == [], outside  # nothing from a CDN
        assert errors == [], errors


def row(page: Page, path: str):
    return page.locator(f'[data-testid=condition-row][data-path="{path}"]')


def adder(page: Page, group: str, what: str):
    return page.locator(
        f'[data-testid=rule-group][data-path="{group}"] > .adders [data-testid={what}]'
    )


async def set_field(page: Page, path: str, field: str, operator: str) -> None:
    r = row(page, path)
    await r.locator("[data-testid=field]").select_option(field)
    await r.locator("[data-testid=operator]").select_option(operator)


async def type_value(page: Page, path: str, value: str) -> None:
    await row(page, path).locator("[data-testid=value-input] input").fill(value)


async def choose_value(page: Page, path: str, value: str) -> None:
    await row(page, path).locator("[data-testid=value-input] select").select_option(value)


async def build_the_rules(page: Page) -> None:
    root = "rules.root"
    await set_field(page, f"{root}.rules[0]", "age", "gt")
    await type_value(page, f"{root}.rules[0]", "25")

    await adder(page, root, "add-group").click()
    first = f"{root}.rules[1]"
    await page.locator(f'[data-path="{first}"] > legend [data-testid=combinator-or]').click()
    await set_field(page, f"{first}.rules[0]", "city", "equals")
    await type_value(page, f"{first}.rules[0]", "Jakarta")
    await adder(page, first, "add-condition").click()
    await set_field(page, f"{first}.rules[1]", "tags", "contains_any")
    await (
        row(page, f"{first}.rules[1]")
        .locator(".chip", has_text="newsletter")
        .locator("input")
        .check()
    )

    await adder(page, first, "add-group").click()  # the nested group
    await set_field(page, f"{NESTED}.rules[0]", "is_vip", "is_true")
    await choose_value(page, f"{NESTED}.rules[0]", "true")
    await adder(page, NESTED, "add-condition").click()
    await set_field(page, f"{NESTED}.rules[1]", "gender", "equals")
    await choose_value(page, f"{NESTED}.rules[1]", "female")

    await adder(page, root, "add-group").click()
    second = f"{root}.rules[2]"
    await page.locator(f'[data-path="{second}"] > legend [data-testid=exclude]').check()
    await set_field(page, f"{second}.rules[0]", "source", "equals")
    await choose_value(page, f"{second}.rules[0]", "import")


async def settled_preview(page: Page, sent: list[dict[str, Any]]) -> int:
    """The count the panel shows once the preview of the finished tree has answered."""
    for _ in range(200):
        if sent and sent[-1]["rules"]["root"] == EXPECTED_ROOT:
            break
        await asyncio.sleep(0.1)
    assert sent and sent[-1]["rules"]["root"] == EXPECTED_ROOT, sent[-1:] or "no preview sent"
    shown = page.locator(
        '[data-testid=preview-panel][aria-busy="false"] [data-testid=preview-count]'
    )
    await shown.wait_for(timeout=30_000)
    return int((await shown.inner_text()).replace(",", ""))


async def test_build_preview_save_watch_and_open_a_segment(stack):
    name = f"Console {stack.account_id.hex[:4]}-{asyncio.get_running_loop().time():.0f}"
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.evaluate("window.__sameDocument = true")
        await page.screenshot(path=artifact("console-list.png"))

        await page.click("[data-testid=create-segment]")
        await page.fill("[data-testid=segment-name]", name)
        await page.click("[data-testid=next]")
        sent: list[dict[str, Any]] = []

        def keep(r: Request) -> None:
            if r.url.endswith("/v1/segments/preview"):
                sent.append(r.post_data_json)

        page.on("request", keep)
        await build_the_rules(page)
        shown = await settled_preview(page, sent)

        rules = {"object": "customer", "root": EXPECTED_ROOT}
        truth = (await api(stack, "POST", "/v1/segments/preview", json={"rules": rules})).json()
        assert shown == truth["total_matched"] > 0
        nodes = {n["path"]: n["matched"] for n in truth["nodes"]}
        beside = page.locator(f'[data-testid=node-count][data-path="{NESTED}"]').first
        assert int((await beside.inner_text()).replace(",", "")) == nodes[NESTED]
        await page.screenshot(path=artifact("console-builder.png"), full_page=True)

        # a build slow enough to be seen building
        stack.set_default_fault(duration_s=2.0)
        try:
            async with page.expect_response(
                lambda r: r.url.endswith("/v1/segments") and r.request.method == "POST"
            ) as created:
                await page.click("[data-testid=save]")
            segment = await (await created.value).json()
            await page.wait_for_function(
                "id => (window.__statuses[id] || []).includes('done')",
                arg=segment["id"],
                timeout=DEADLINE_S * 1000,
            )
        finally:
            stack.reset_faults()
        seen = await page.evaluate("id => window.__statuses[id]", segment["id"])
        assert "in_progress" in seen and seen.index("in_progress") < seen.index("done"), seen
        assert await page.evaluate("window.__sameDocument") is True  # no reload
        the_row = page.locator(f'[data-testid=segment-row][data-segment-id="{segment["id"]}"]')
        members = (await api(stack, "GET", f"/v1/segments/{segment['id']}")).json()["member_count"]
        assert members == truth["total_matched"]
        await page.screenshot(path=artifact("console-list-done.png"))

        await the_row.locator("a.name").click()
        await page.wait_for_selector("[data-testid=member-row]", timeout=30_000)
        total = int((await page.inner_text("[data-testid=total-matched]")).replace(",", ""))
        assert total == members
        assert await page.locator("[data-testid=member-row]").count() == min(10, members)
        await page.wait_for_selector("[data-testid=reachability] .bar-row")
        await page.screenshot(path=artifact("console-detail.png"), full_page=True)
        reach = (await api(stack, "GET", f"/v1/segments/{segment['id']}/reachability")).json()
        await page.click("[data-testid=send-email]")
        handed = page.locator("[data-testid=recipient-list]")
        await handed.wait_for(timeout=30_000)
        assert f"{reach['email']['reachable']:,} recipients" in await handed.inner_text()

        await page.click("[data-testid=tab-performance]")
        gender = page.locator('[data-testid=chart][data-chart="gender"]')
        await gender.wait_for(timeout=30_000)
        assert int(await gender.get_attribute("data-total") or 0) == members
        drawn = await gender.locator("canvas").evaluate(
            """c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data
                     .some((v, i) => i % 4 === 3 && v > 0)"""
        )
        assert drawn  # Chart.js painted something
        assert await page.locator("[data-testid=chart]").count() == 5
        await page.screenshot(path=artifact("console-performance.png"), full_page=True)

        await page.click("[data-testid=tab-builds]")
        first = page.locator("[data-testid=build-row]").first
        await first.wait_for()
        assert "done" in await first.inner_text()
        await page.screenshot(path=artifact("console-builds.png"))


async def test_the_servers_refusal_is_shown_on_the_row_it_names(stack):
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.click("[data-testid=create-segment]")
        await page.fill("[data-testid=segment-name]", "Too long a value")
        await page.click("[data-testid=next]")
        path = "rules.root.rules[0]"
        await set_field(page, path, "city", "equals")
        await type_value(page, path, "J" * 1001)  # over the language's cap on text
        error = row(page, path).locator("[data-testid=row-error]")
        await error.wait_for(timeout=30_000)
        assert "1000" in await error.inner_text()
        assert "highlighted" in await page.inner_text("[data-testid=preview-error]")


async def test_a_user_without_the_add_scope_sees_no_create_button(stack):
    await api(  # a segment to list, so the row actions are there to be absent
        stack,
        "POST",
        "/v1/segments",
        json={
            "name": f"Listed {asyncio.get_running_loop().time():.0f}",
            "rules": {
                "object": "customer",
                "root": {
                    "type": "group",
                    "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 60}],
                },
            },
        },
    )
    reader = {
        Scope.VIEW: Access.ALL,
        Scope.ADD: Access.DISABLED,
        Scope.MANAGE: Access.DISABLED,
        Scope.ARCHIVED: Access.DISABLED,
    }
    async with open_console(stack, stack.token(user_id="reader", permissions=reader)) as page:
        await page.wait_for_selector("[data-testid=segment-row]")
        assert await page.locator("[data-testid=segment-row]").count() >= 2
        for action in (
            "create-segment",
            "duplicate",
            "archive",
            "delete",
            "rebuild",
            "refresh-all",
        ):
            assert await page.locator(f"[data-testid={action}]").count() == 0, action
        await page.screenshot(path=artifact("console-list-reader.png"))


async def test_editing_shows_who_would_enter_and_exit(stack):
    made = await api(
        stack,
        "POST",
        "/v1/segments",
        json={
            "name": f"To edit {asyncio.get_running_loop().time():.0f}",
            "rules": {
                "object": "customer",
                "root": {
                    "type": "group",
                    "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 40}],
                },
            },
        },
    )
    segment = made.json()

    async def built() -> bool:
        shown = await api(stack, "GET", f"/v1/segments/{segment['id']}")
        return bool(shown.json()["build_status"] == "done")

    await wait_for(built)  # who would exit is counted against the built member table
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.goto(f"{stack.api}/console/segments/{segment['id']}/edit")
        path = "rules.root.rules[0]"
        value = row(page, path).locator("[data-testid=value-input] input")
        await value.wait_for(timeout=30_000)
        assert await value.input_value() == "40"  # the saved tree, loaded into the rows
        await value.fill("50")
        rules = {
            "object": "customer",
            "root": {
                "type": "group",
                "combinator": "and",
                "negate": False,
                "window": None,
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 50}],
            },
        }
        truth = (
            await api(
                stack,
                "POST",
                "/v1/segments/preview",
                json={"rules": rules, "segment_id": segment["id"]},
            )
        ).json()["edit_diff"]
        assert truth["would_exit"] > 0
        # the panel first shows the unchanged tree's diff (nobody moves), then this one
        diff = page.locator("[data-testid=edit-diff]")
        await expect(diff).to_contain_text(
            f"\u2212{truth['would_exit']:,} would exit", timeout=30_000
        )
        await expect(diff).to_contain_text(f"+{truth['would_enter']:,} would enter")
        # and names a few of them, the ones the API names
        leaving = page.locator("[data-testid=would-exit-names]")
        for person in truth["would_exit_sample"]:
            await expect(leaving).to_contain_text(person["full_name"])
        await page.screenshot(path=artifact("console-edit.png"), full_page=True)
        await page.click("[data-testid=save]")
        await page.wait_for_selector(f'[data-segment-id="{segment["id"]}"]')
    saved = (await api(stack, "GET", f"/v1/segments/{segment['id']}")).json()
    assert saved["rules"]["root"]["rules"][0]["value"] == 50


async def test_search_archive_and_unarchive_from_the_list(stack):
    name = f"Archivable {asyncio.get_running_loop().time():.0f}"
    made = await api(
        stack,
        "POST",
        "/v1/segments",
        json={
            "name": name,
            "rules": {
                "object": "customer",
                "root": {
                    "type": "group",
                    "rules": [{"type": "property", "field": "age", "operator": "lt", "value": 20}],
                },
            },
        },
    )
    segment_id = made.json()["id"]
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.fill("[data-testid=search]", name)
        only = page.locator("[data-testid=segment-row]")
        await page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=segment-row]').length === n", arg=1
        )
        assert await only.first.get_attribute("data-segment-id") == segment_id
        await only.first.locator("[data-testid=archive]").click()
        await only.first.locator("[data-testid=unarchive]").wait_for(timeout=30_000)
        assert (await api(stack, "GET", f"/v1/segments/{segment_id}")).json()["status"] == (
            "archived"
        )
        await page.select_option("[data-testid=status-filter]", "active")
        await page.locator("[data-testid=empty-state]").wait_for(timeout=30_000)
        await page.select_option("[data-testid=status-filter]", "archived")
        await only.first.locator("[data-testid=unarchive]").click()
        await page.locator("[data-testid=empty-state]").wait_for(timeout=30_000)
    assert (await api(stack, "GET", f"/v1/segments/{segment_id}")).json()["status"] == "active"


async def test_a_user_who_may_not_view_segments_sees_why(stack):
    blind = {Scope.VIEW: Access.DISABLED}
    token = stack.token(user_id="blind", permissions=blind)
    async with open_console(stack, token, ready="[data-testid=forbidden]") as page:
        assert "customers_segment_view" in await page.inner_text("[data-testid=forbidden]")
        assert await page.locator("[data-testid=segment-table]").count() == 0


async def test_the_detail_shows_who_entered_and_left_the_size_series_and_anomalies(stack):
    import asyncpg

    made = await api(
        stack,
        "POST",
        "/v1/segments",
        json={
            "name": f"With a memory {asyncio.get_running_loop().time():.0f}",
            "rules": {
                "object": "customer",
                "root": {
                    "type": "group",
                    "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
                },
            },
        },
    )
    segment = made.json()
    url = f"/v1/segments/{segment['id']}"

    async def builds_done(n: int) -> bool:
        builds = (await api(stack, "GET", f"{url}/builds")).json()
        return len(builds) == n and all(b["state"] == "done" for b in builds)

    await wait_for(lambda: builds_done(1))
    conn = await asyncpg.connect(stack.cfg.database_url)
    try:  # any move of 1 % and 1 member is unusual for this account, for this test
        await conn.execute(
            "UPDATE accounts SET anomaly_change_pct = 1, anomaly_min_changed = 1 WHERE id = $1",
            stack.account_id,
        )
        edited = {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 55}],
            },
        }
        assert (await api(stack, "PATCH", url, json={"rules": edited})).status_code == 200
        await wait_for(lambda: builds_done(2))
    finally:
        await conn.execute(
            "UPDATE accounts SET anomaly_change_pct = 50, anomaly_min_changed = 100 WHERE id = $1",
            stack.account_id,
        )
        await conn.close()
    builds = (await api(stack, "GET", f"{url}/builds")).json()
    assert builds[0]["anomaly"] and builds[0]["exited"] > 0
    changes = (await api(stack, "GET", f"{url}/changes", params={"limit": 10})).json()

    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.goto(f"{stack.api}/console/segments/{segment['id']}")
        await expect(page.locator("[data-testid=rules-in-words]")).to_contain_text(
            "Age more than 55", timeout=30_000
        )
        await expect(page.locator("[data-testid=anomaly-badge]")).to_contain_text(
            builds[0]["anomaly"]
        )
        # the latest changes: the API's first page, in its order
        rows = page.locator("[data-testid=change-row]")
        await rows.first.wait_for(timeout=30_000)
        shown = [
            (await r.get_attribute("data-change"), await r.get_attribute("data-member"))
            for r in await rows.all()
        ]
        assert shown == [(c["change"], c["object_id"]) for c in changes["items"]]
        assert shown[0][0] == "exited"  # the edit's exits are the newest
        if changes["next_cursor"]:
            await page.click("[data-testid=changes-older]")
            second = (
                await api(
                    stack,
                    "GET",
                    f"{url}/changes",
                    params={"limit": 10, "cursor": changes["next_cursor"]},
                )
            ).json()
            first_member = second["items"][0]["object_id"]
            await expect(rows.first).to_have_attribute("data-member", first_member)
        await page.screenshot(path=artifact("console-changes.png"), full_page=True)

        # the size series: one point per build, with who entered and who left
        await page.click("[data-testid=tab-performance]")
        points = page.locator("[data-testid=size-point]")
        await expect(points).to_have_count(2, timeout=30_000)
        for point, build in zip(await points.all(), reversed(builds), strict=True):
            cells = {
                col: (await point.locator(f"[data-col={col}]").inner_text()).strip("+\u2212")
                for col in ("members", "entered", "exited")
            }
            assert cells == {
                "members": f"{build['member_count']:,}",
                "entered": f"{build['entered']:,}",
                "exited": f"{build['exited']:,}",
            }
        size = page.locator('[data-testid=chart][data-chart="members"]')
        assert int(await size.get_attribute("data-total") or 0) == sum(
            b["member_count"] for b in builds
        )
        await page.screenshot(path=artifact("console-size-series.png"), full_page=True)
        await page.click("[data-testid=tab-builds]")
        await expect(page.locator("[data-testid=build-anomaly]")).to_have_count(1)


async def test_a_sequence_built_in_the_console_previews_as_the_api_does(stack):
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.click("[data-testid=create-segment]")
        await page.fill("[data-testid=segment-name]", "Came back for more")
        await page.click("[data-testid=next]")
        sent: list[dict[str, Any]] = []
        page.on(
            "request",
            lambda r: (
                sent.append(r.post_data_json) if r.url.endswith("/v1/segments/preview") else None
            ),
        )
        root = "rules.root"
        await adder(page, root, "add-kind").select_option("sequence")
        await adder(page, root, "add-condition").click()
        await row(page, f"{root}.rules[0]").locator("[data-testid=remove-condition]").click()
        seq = row(page, f"{root}.rules[0]")
        assert await seq.get_attribute("data-type") == "sequence"
        await seq.locator("[data-testid=step-1] [data-testid=step-within]").fill("30")
        await seq.locator("[data-testid=add-step]").click()
        await seq.locator("[data-testid=then-not]").check()
        await seq.locator("[data-testid=then-not-days]").fill("3")

        def finished(tree: dict[str, Any]) -> bool:
            (only,) = tree["rules"]["root"]["rules"]
            return (
                only["type"] == "sequence"
                and len(only["steps"]) == 3
                and (only.get("then_not") or {}).get("within_days") == 3
            )

        for _ in range(200):
            if sent and finished(sent[-1]):
                break
            await asyncio.sleep(0.1)
        assert sent and finished(sent[-1]), sent[-1:]
        (sequence,) = sent[-1]["rules"]["root"]["rules"]
        assert sequence["steps"][1]["within_days"] == 30
        assert len({s["event"] for s in sequence["steps"]}) == 1  # one source's rows
        shown = page.locator(
            '[data-testid=preview-panel][aria-busy="false"] [data-testid=preview-count]'
        )
        await shown.wait_for(timeout=30_000)
        await asyncio.sleep(1)  # the last answer, not one for an earlier tree
        count = int((await shown.inner_text()).replace(",", ""))
        truth = (
            await api(stack, "POST", "/v1/segments/preview", json={"rules": sent[-1]["rules"]})
        ).json()
        assert count == truth["total_matched"] > 0
        nodes = {n["path"]: n["matched"] for n in truth["nodes"]}
        beside = page.locator(f'[data-testid=node-count][data-path="{root}.rules[0]"]').first
        assert int((await beside.inner_text()).replace(",", "")) == nodes[f"{root}.rules[0]"]
        await page.screenshot(path=artifact("console-sequence.png"), full_page=True)


async def test_a_split_made_in_the_console_shows_the_apis_buckets(stack):
    name = f"Split {stack.account_id.hex[:4]}-{asyncio.get_running_loop().time():.0f}"
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.click("[data-testid=create-segment]")
        await page.fill("[data-testid=segment-name]", name)
        await page.click("[data-testid=next]")
        root = "rules.root"
        await set_field(page, f"{root}.rules[0]", "age", "gt")
        await type_value(page, f"{root}.rules[0]", "20")
        await page.check("[data-testid=split-toggle]")
        rows = page.locator("[data-testid=bucket-row]")
        assert await rows.count() == 3
        await rows.nth(0).locator("[data-testid=bucket-percent]").fill("50")
        total = page.locator("[data-testid=split-total]")
        assert "must be 100" in await total.inner_text()  # 50 + 45 + 10
        await rows.nth(1).locator("[data-testid=bucket-percent]").fill("40")
        assert await total.inner_text() == "sums to 100 %"
        # the expected sizes follow the preview's count
        shown = page.locator(
            '[data-testid=preview-panel][aria-busy="false"] [data-testid=preview-count]'
        )
        await shown.wait_for(timeout=30_000)
        await asyncio.sleep(1)
        matched = int((await shown.inner_text()).replace(",", ""))
        expected = await rows.nth(2).locator("[data-testid=bucket-expected]").inner_text()
        assert expected == f"≈ {round(matched * 10 / 100):,}"

        async with page.expect_response(
            lambda r: r.url.endswith("/v1/segments") and r.request.method == "POST"
        ) as created:
            await page.click("[data-testid=save]")
        segment = await (await created.value).json()
        assert segment["split"]["buckets"][0] == {"name": "A", "percent": 50.0}

        async def built() -> bool:
            got = await api(stack, "GET", f"/v1/segments/{segment['id']}")
            return bool(got.json()["build_status"] == "done")

        await wait_for(built)
        await page.goto(f"{stack.api}/console/segments/{segment['id']}")
        bucket = page.locator("[data-testid=bucket]")
        await bucket.first.wait_for(timeout=30_000)
        truth = (await api(stack, "GET", f"/v1/segments/{segment['id']}/buckets")).json()
        got = {
            await b.get_attribute("data-bucket"): int(await b.get_attribute("data-members") or -1)
            for b in await bucket.all()
        }
        assert got == {b["name"]: b["members"] for b in truth["buckets"]}
        assert sum(got.values()) == truth["total"] == matched
        await page.screenshot(path=artifact("console-split.png"), full_page=True)


async def test_the_builder_warns_before_saving_a_segment_whose_refreshes_would_be_skipped(stack):
    conn = await asyncpg.connect(stack.cfg.database_url)
    await conn.execute(
        "UPDATE accounts SET cost_threshold_bytes = 1000 WHERE id = $1", stack.account_id
    )
    try:
        async with open_console(stack, stack.token(user_id="console-user")) as page:
            await page.click("[data-testid=create-segment]")
            await page.fill("[data-testid=segment-name]", "Costly")
            await page.click("[data-testid=next]")
            await set_field(page, "rules.root.rules[0]", "age", "gt")
            await type_value(page, "rules.root.rules[0]", "33")
            warning = page.locator("[data-testid=cost-warning]")
            await warning.wait_for(timeout=30_000)
            assert "would be skipped" in await warning.inner_text()
            shown = await page.locator("[data-testid=preview-cost]").get_attribute("data-bytes")
            rules = {
                "object": "customer",
                "root": {
                    "type": "group",
                    "combinator": "and",
                    "negate": False,
                    "window": None,
                    "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 33}],
                },
            }
            truth = (
                await api(stack, "POST", "/v1/segments/validate", json={"rules": rules})
            ).json()["cost"]
            assert int(shown or 0) == truth["bytes_per_refresh"] > 1000
            await page.screenshot(path=artifact("console-cost-warning.png"), full_page=True)
    finally:
        await conn.execute(
            "UPDATE accounts SET cost_threshold_bytes = 10000000000 WHERE id = $1",
            stack.account_id,
        )
        await conn.close()


async def test_a_member_is_explained_from_the_members_table_and_the_builder(stack):
    segment = (
        await api(
            stack,
            "POST",
            "/v1/segments",
            json={
                "name": f"Explained {asyncio.get_running_loop().time():.0f}",
                "rules": {
                    "object": "customer",
                    "root": {
                        "type": "group",
                        "rules": [
                            {"type": "property", "field": "age", "operator": "gte", "value": 30},
                            {"type": "property", "field": "city", "operator": "is_not_empty"},
                        ],
                    },
                },
            },
        )
    ).json()

    async def built() -> bool:
        got = await api(stack, "GET", f"/v1/segments/{segment['id']}")
        return bool(got.json()["build_status"] == "done")

    await wait_for(built)
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.goto(f"{stack.api}/console/segments/{segment['id']}")
        first = page.locator("[data-testid=member-row]").first
        await first.wait_for(timeout=30_000)
        await first.locator("[data-testid=explain-member]").click()
        verdict = page.locator("[data-testid=explain-verdict]")
        await verdict.wait_for(timeout=30_000)
        assert await verdict.get_attribute("data-matches") == "true"
        assert await verdict.get_attribute("data-in-table") == "true"
        member = (await page.locator("[data-testid=explain-id]").input_value()).strip()
        truth = (
            await api(
                stack, "GET", f"/v1/segments/{segment['id']}/explain", params={"member_id": member}
            )
        ).json()
        nodes = page.locator("[data-testid=explain-node]")
        shown = {
            await n.get_attribute("data-path"): await n.get_attribute("data-matched") == "true"
            for n in await nodes.all()
        }
        assert shown == {n["path"]: n["matched"] for n in truth["nodes"]}
        await page.screenshot(path=artifact("console-explain.png"), full_page=True)

        # The builder explains unsaved rules from its search box.
        await page.goto(f"{stack.api}/console/segments/new")
        await page.fill("[data-testid=segment-name]", "Explain unsaved")
        await page.click("[data-testid=next]")
        await set_field(page, "rules.root.rules[0]", "age", "lt")
        await type_value(page, "rules.root.rules[0]", "30")
        await page.fill("[data-testid=explain-id]", member)
        await page.click("[data-testid=explain-go]")
        unsaved = page.locator("[data-testid=explain-verdict]")
        await unsaved.wait_for(timeout=30_000)
        assert await unsaved.get_attribute("data-matches") == "false"  # 30 or over


async def test_the_overlap_of_two_segments_is_drawn_with_the_apis_numbers(stack):
    made = []
    for name, floor in (("Overlap A", 25), ("Overlap B", 45)):
        made.append(
            (
                await api(
                    stack,
                    "POST",
                    "/v1/segments",
                    json={
                        "name": f"{name} {asyncio.get_running_loop().time():.0f}",
                        "rules": {
                            "object": "customer",
                            "root": {
                                "type": "group",
                                "rules": [
                                    {
                                        "type": "property",
                                        "field": "age",
                                        "operator": "gt",
                                        "value": floor,
                                    },
                                ],
                            },
                        },
                    },
                )
            ).json()
        )
    for segment in made:

        async def built(s: dict[str, Any] = segment) -> bool:
            got = await api(stack, "GET", f"/v1/segments/{s['id']}")
            return bool(got.json()["build_status"] == "done")

        await wait_for(built)
    a, b = made
    async with open_console(stack, stack.token(user_id="console-user")) as page:
        await page.goto(f"{stack.api}/console/segments/{a['id']}")
        chooser = page.locator("[data-testid=overlap-choose]")
        await chooser.locator(f'option[value="{b["id"]}"]').wait_for(
            state="attached", timeout=30_000
        )
        await chooser.select_option([b["id"]])
        await page.click("[data-testid=overlap-go]")
        regions = page.locator("[data-testid=venn-region]")
        await regions.first.wait_for(timeout=30_000)
        drawn = {
            int(await r.get_attribute("data-mask") or 0): int(
                await r.get_attribute("data-members") or -1
            )
            for r in await regions.all()
        }
        truth = (
            await api(
                stack, "GET", "/v1/segments/overlap", params={"segment_ids": [a["id"], b["id"]]}
            )
        ).json()
        bit = {a["id"]: 1, b["id"]: 2}
        expected = {sum(bit[s] for s in r["segments"]): r["members"] for r in truth["regions"]}
        assert drawn == expected
        assert 3 in drawn and 2 not in drawn  # over 45 lies inside over 25
        await page.screenshot(path=artifact("console-overlap.png"), full_page=True)

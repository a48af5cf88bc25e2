"""The CRM frontend's situation, in headless Chromium: a page on its own origin opens a
cookie session with the API (CORS with credentials), authorizes its Pusher channel
through the API with the CSRF token, creates a segment and receives its status push."""

from __future__ import annotations

import pytest

from browser import ROOT, artifact, chromium, serve
from e2e import DEADLINE_S

pytestmark = pytest.mark.stack

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "lt", "value": 40}],
    },
}


async def test_a_page_on_another_origin_works_with_a_cookie_session(stack):
    with serve(ROOT / "tests" / "browser", stack.page_port) as origin:
        async with chromium() as browser:
            page = await browser.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            await page.goto(f"{origin}/cross_origin.html")
            channel = await page.evaluate(
                "([api, token, key, port]) => window.start(api, token, key, port)",
                [stack.api, stack.token(), stack.cfg.pusher_key, stack.cfg.pusher_port],
            )
            assert channel == f"private-account-{stack.account_id.hex}"
            made = await page.evaluate(
                "([api, body]) => window.createSegment(api, body)",
                [stack.api, {"name": "Made in a browser", "rules": RULES}],
            )
            assert made["status"] == 201, made
            segment_id = made["body"]["id"]
            await page.wait_for_function(
                "id => window.pushes.some(p => p.segment_id === id && p.status === 'done')",
                arg=segment_id,
                timeout=DEADLINE_S * 1000,
            )
            cookies = await page.context.cookies(stack.api)
            session = next(c for c in cookies if c["name"] == "segp_session")
            assert session["httpOnly"] is True
            # page scripts cannot read the session cookie, only the CSRF one
            assert "segp_session" not in await page.evaluate("document.cookie")
            await page.screenshot(path=artifact("cross-origin-session.png"))
            assert failed == []


@pytest.mark.parametrize(
    ("path", "operation"), [("/docs", ".opblock"), ("/redoc", "[data-section-id^='operation/']")]
)
async def test_the_api_docs_render_offline(stack, path, operation):
    async with chromium() as browser:
        page = await browser.new_page()
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else None
            ),
        )
        await page.goto(f"{stack.api}{path}")
        await page.wait_for_selector(operation, timeout=30_000)
        shown = await page.locator(operation).count()
        await page.screenshot(path=artifact(f"api{path.replace('/', '-')}.png"), full_page=False)
    assert shown >= 30, shown  # every operation is listed
    assert outside == []  # nothing from a CDN

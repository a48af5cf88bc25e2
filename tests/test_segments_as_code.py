"""Segments as code on the real stack: export, then apply into an empty account, then
export again gives the same files; a plan of unchanged files shows nothing; a stale
plan is refused; a bad file is named with its line; the CLI does the same."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from devstack import seeding
from segment_runtime.auth import ALL_ACCESS, issue_token

pytestmark = pytest.mark.stack


async def account(stack) -> httpx.AsyncClient:
    """A fresh, empty account, and a client with its token."""
    account_id = uuid4()
    await seeding.ensure_account(stack.cfg.database_url, account_id, "as code", "UTC")
    token = issue_token(
        stack.cfg.secrets["jwt_secret"], account_id=account_id, user_id="ci", permissions=ALL_ACCESS
    )
    return httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def group(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"object": "customer", "root": {"type": "group", "rules": list(rules)}}


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_export_apply_export_round_trips_and_plans_nothing_after(stack, tmp_path: Path):
    source, target = await account(stack), await account(stack)
    async with source, target:
        vips = await ok(
            await source.post(
                "/v1/segments",
                json={
                    "name": "Code VIPs",
                    "rules": group(
                        {"type": "property", "field": "age", "operator": "gt", "value": 50}
                    ),
                },
            )
        )
        await ok(
            await source.post(
                "/v1/segments",
                json={
                    "name": "Code adults",
                    "description": "over 30, not VIPs",
                    "rules": group(
                        {"type": "property", "field": "age", "operator": "gt", "value": 30},
                        {"type": "segment", "segment_id": vips["id"], "operator": "not_in"},
                    ),
                    "split": {
                        "buckets": [
                            {"name": "A", "percent": 50},
                            {"name": "holdout", "percent": 50},
                        ]
                    },
                },
            )
        )
        exported = (await ok(await source.get("/v1/segments/code")))["files"]
        assert set(exported) == {"code-vips.yaml", "code-adults.yaml"}
        assert "segment: Code VIPs" in exported["code-adults.yaml"]  # embedded by name

        planned = await ok(await target.post("/v1/segments/code/plan", json={"files": exported}))
        assert sorted((c["action"], c["name"]) for c in planned["changes"]) == [
            ("create", "Code VIPs"),
            ("create", "Code adults"),
        ]
        body = {"files": exported, "fingerprint": planned["fingerprint"]}
        assert (await ok(await target.post("/v1/segments/code/apply", json=body)))["applied"]
        again = (await ok(await target.get("/v1/segments/code")))["files"]
        assert again == exported
        unchanged = await ok(await target.post("/v1/segments/code/plan", json={"files": again}))
        assert unchanged["changes"] == [] and sorted(unchanged["unchanged"]) == [
            "Code VIPs",
            "Code adults",
        ]
        body = {"files": again, "fingerprint": unchanged["fingerprint"]}
        assert (await ok(await target.post("/v1/segments/code/apply", json=body)))[
            "applied"
        ] is False

        # Change a file, plan, then let the account move before applying: refused.
        edited = {**again, "code-vips.yaml": again["code-vips.yaml"].replace("50", "60")}
        stale = await ok(await target.post("/v1/segments/code/plan", json={"files": edited}))
        assert [(c["action"], c["name"]) for c in stale["changes"]] == [("update", "Code VIPs")]
        listed = await ok(await target.get("/v1/segments", params={"search": "Code adults"}))
        adults_id = listed["items"][0]["id"]
        await ok(await target.patch(f"/v1/segments/{adults_id}", json={"description": "moved"}))
        refused = await target.post(
            "/v1/segments/code/apply", json={"files": edited, "fingerprint": stale["fingerprint"]}
        )
        assert refused.status_code == 409 and refused.json()["code"] == "stale_plan"

        # Dropping a file archives its segment.
        only = {"code-vips.yaml": again["code-vips.yaml"]}
        dropped = await ok(await target.post("/v1/segments/code/plan", json={"files": only}))
        assert [(c["action"], c["name"]) for c in dropped["changes"]] == [
            ("archive", "Code adults")
        ]

        bad = await target.post(
            "/v1/segments/code/plan",
            json={
                "files": {
                    "broken.yaml": "name: [unclosed\n",
                    "wrong.yaml": "name: Wrong\nobject: customer\nrules:\n  type: group\n"
                    "  rules:\n  - type: property\n    field: age\n"
                    "    operator: bigger\n    value: 1\n",
                }
            },
        )
        assert bad.status_code == 422
        messages = [e["message"] for e in bad.json()["errors"]]
        assert any(m.startswith("broken.yaml:2: not YAML") for m in messages), messages
        assert any(m.startswith("wrong.yaml:8:") for m in messages), messages
        # Applying files of which one is bad changes nothing, not even the good ones.
        before = (await ok(await target.get("/v1/segments/code")))["files"]
        mixed = {**before, "new.yaml": "name: New one\nobject: customer\nrules: {type: group}\n"}
        mixed["code-vips.yaml"] = before["code-vips.yaml"].replace("60", "70")
        plan_now = await ok(await target.post("/v1/segments/code/plan", json={"files": before}))
        refused_bad = await target.post(
            "/v1/segments/code/apply",
            json={"files": mixed, "fingerprint": plan_now["fingerprint"]},
        )
        assert refused_bad.status_code == 422
        assert (await ok(await target.get("/v1/segments/code")))["files"] == before

        # The command line, against the same gateway.
        token = target.headers["Authorization"].removeprefix("Bearer ")
        out = tmp_path / "segments"
        segctl = str(Path(sys.executable).parent / "segctl")
        process = await asyncio.create_subprocess_exec(
            segctl,
            "segments",
            "export",
            str(out),
            "--api",
            stack.api,
            env={"SEGP_TOKEN": token, "PATH": "/usr/bin:/bin"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err.decode()
        assert {p.name for p in out.glob("*.yaml")} == set(again)

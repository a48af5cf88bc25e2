"""The OpenAPI document is complete: every operation's request body and success response
has an example a frontend developer can copy."""

from __future__ import annotations


def _component(spec: dict, schema: dict) -> dict:
    if "$ref" in schema:
        return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return _component(spec, schema["items"])
    return schema


def _has_example(spec: dict, schema: dict) -> bool:
    component = _component(spec, schema)
    return bool(
        component.get("examples")
        or component.get("example")
        or schema.get("examples")
        or schema.get("example")
    )


async def test_every_operation_has_examples(client):
    spec = client._transport.app.openapi()
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                if not _has_example(spec, media["schema"]):
                    missing.append(f"{method.upper()} {path} request")
            for status, response in op["responses"].items():
                json_body = response.get("content", {}).get("application/json")
                if (
                    status.startswith("2")
                    and json_body
                    and not _has_example(spec, json_body["schema"])
                ):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []


async def test_swagger_ui_is_served(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text.lower()


async def test_every_example_validates_against_its_own_schema(client):
    import jsonschema_rs  # schemathesis's own validator

    spec = client._transport.app.openapi()
    wrong = []
    for name, component in spec["components"]["schemas"].items():
        for example in component.get("examples", []):
            document = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
            errors = list(jsonschema_rs.validator_for(document).iter_errors(example))
            if errors:
                wrong.append(f"{name}: {errors[0].message}")
    assert wrong == []


def test_the_committed_openapi_document_is_current():
    """The console's types are generated from this file (`npm run typecheck` checks them
    against it); this checks it against the routes."""
    from pathlib import Path

    from segment_api.http.openapi import OPENAPI_PATH, openapi_json

    committed = Path(__file__).resolve().parents[3] / OPENAPI_PATH
    assert committed.read_text() == openapi_json(), "stale: run `uv run segctl docs`"

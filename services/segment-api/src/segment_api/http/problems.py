"""RFC 9457 problem details with stable codes, for every error the gateway returns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from compiler.errors import RuleError
from contracts.rules import Rule

PROBLEM_JSON = "application/problem+json"
# Discriminator tags pydantic puts into error locations (every rule node's `type`); a
# JSON path has no use for them.
_UNION_TAGS = frozenset(kind.model_fields["type"].default for kind in get_args(get_args(Rule)[0]))


class FieldError(BaseModel):
    path: str = Field(
        description="JSON path of the offending value.", examples=["rules.root.rules[0].field"]
    )
    code: str = Field(examples=["unknown_field"])
    message: str


class Problem(BaseModel):
    type: str = Field("about:blank")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code.", examples=["invalid_condition"])
    detail: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(
            status=status,
            code=code,
            title=title,
            detail=detail,
            errors=errors or [],
            type=f"https://segment-platform.dev/problems/{code}",
        )
        self.headers = headers


def field_problem(status: int, code: str, title: str, message: str, path: str) -> ProblemError:
    """A refusal that names the one field it is about."""
    return ProblemError(
        status, code, title, message, errors=[FieldError(path=path, code=code, message=message)]
    )


def not_found(what: str = "segment") -> ProblemError:
    return ProblemError(404, "not_found", f"{what.capitalize()} not found")


def not_installed(code: str, title: str, missing: Path, fallback: str) -> ProblemError:
    """Files the install script puts on disk are missing: say which, and how to get them."""
    return ProblemError(
        503, code, title, f"{missing} is missing: run deploy/install.sh ({fallback})"
    )


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "permission_denied", "Permission denied", detail)


def invalid_rules(errors: Sequence[RuleError | FieldError]) -> ProblemError:
    return ProblemError(
        422,
        "invalid_condition",
        "The rule set is invalid",
        f"{len(errors)} error(s) in the rule set",
        errors=[FieldError(path=e.path, code=e.code, message=e.message) for e in errors],
    )


def json_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    previous: int | str | None = None
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif not (isinstance(previous, int) and item in _UNION_TAGS):
            parts.append(str(item))
        previous = item
    return ".".join(parts)


def _response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return _response(exc.problem, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc: tuple[Any, ...] = tuple(err.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path", "header"):
                loc = loc[1:] if loc[0] == "body" else loc
            errors.append(
                FieldError(
                    path=json_path(loc),
                    code=str(err.get("type", "invalid")),
                    message=str(err.get("msg", "")),
                )
            )
        return _response(
            Problem(
                status=422,
                code="invalid_request",
                title="The request is invalid",
                detail=f"{len(errors)} error(s)",
                errors=errors,
                type="https://segment-platform.dev/problems/invalid_request",
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "permission_denied",
            404: "not_found",
            405: "method_not_allowed",
        }.get(exc.status_code, "http_error")
        return _response(
            Problem(status=exc.status_code, code=code, title=str(exc.detail)),
            dict(exc.headers) if exc.headers else None,
        )


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem answers, under the media type they are sent with."""
    return {
        code: {
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def warehouse_problem(exc: Exception) -> ProblemError:
    """A warehouse refusal as a problem: the account's data is not there yet (503), or the
    warehouse failed (502)."""
    if getattr(exc, "missing", False):
        return ProblemError(
            503,
            "warehouse_unavailable",
            "The account's warehouse tables are not there",
            "no data has been loaded for this account yet",
        )
    return ProblemError(502, "warehouse_error", "The warehouse refused the query", str(exc))

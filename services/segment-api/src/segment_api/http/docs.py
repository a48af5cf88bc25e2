"""Swagger UI at /docs and ReDoc at /redoc, from files on disk: offline networks (and
these machines) cannot fetch FastAPI's default CDN scripts, which left /docs blank."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from segment_api.http.problems import ProblemError, not_installed

# ReDoc's sidebar footer shows Redocly's logo from their CDN; offline it is a blank box.
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_BLANK_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


def install(app: FastAPI, assets: Path) -> None:
    swagger, redoc = assets / "swagger-ui-dist", assets / "redoc" / "bundles"
    if swagger.is_dir():
        app.mount("/docs/assets", StaticFiles(directory=swagger), name="swagger-assets")
    redoc_js = redoc / "redoc.standalone.js"
    bundle = redoc_js.read_text().replace(_REDOC_LOGO, _BLANK_SVG) if redoc_js.is_file() else None

    @app.get("/redoc/assets/redoc.standalone.js", include_in_schema=False)
    async def redoc_bundle() -> Response:
        if bundle is None:
            raise missing(redoc)
        return Response(bundle, media_type="text/javascript")

    def missing(what: Path) -> ProblemError:
        return not_installed(
            "docs_unavailable",
            "The API docs' files are not installed",
            what,
            "OpenAPI stays at /openapi.json",
        )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        if not swagger.is_dir():
            raise missing(swagger)
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — Swagger UI",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        if bundle is None:
            raise missing(redoc)
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — ReDoc",
            redoc_js_url="/redoc/assets/redoc.standalone.js",
            redoc_favicon_url="/docs/assets/favicon-32x32.png",
            with_google_fonts=False,
        )

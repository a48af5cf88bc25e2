"""The web console at /console: the Vite build (services/segment-api/console/dist) served
from disk. The shell holds no data, so it is public; everything it shows comes from the
API's routes, which check the session cookie (and the CSRF token on changes) as usual.

Any path under /console that is not a file answers the app's index.html, so that a
reload of /console/segments/<id> lands on the same screen (history routing)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response

from segment_api.http.problems import ProblemError, not_installed

# The console talks only to its own origin and the Pusher server's websocket.
_CSP = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}


def install(app: FastAPI, dist: Path) -> None:
    root = dist.resolve()

    @app.get("/console", include_in_schema=False)
    async def console_root() -> Response:
        return RedirectResponse("/console/", status_code=308)

    @app.api_route("/console/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def console(path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            raise not_installed(
                "console_unavailable", "The web console is not built", root, "the API works"
            )
        wanted = (root / path).resolve()
        # Only files inside the build: `..` in a path never leaves it.
        if path and wanted.is_relative_to(root) and wanted.is_file():
            # Vite names assets by content hash: they never change under one name.
            cache = (
                "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            )
            return FileResponse(wanted, headers={**_HEADERS, "Cache-Control": cache})
        if path.startswith("assets/"):
            raise ProblemError(404, "not_found", "No such console file", path)
        return FileResponse(index, headers={**_HEADERS, "Cache-Control": "no-cache"})

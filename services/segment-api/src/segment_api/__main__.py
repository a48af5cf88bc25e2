"""`python -m segment_api` serves the gateway (API_WORKERS processes, default one)."""

from segment_api.app import create_app
from segment_api.settings import Settings
from segment_runtime.lifecycle import serve_http

if __name__ == "__main__":
    settings = Settings()
    # Several workers each build their own app (and outbox relay: rows are claimed SKIP
    # LOCKED), from the factory's import string.
    app = "segment_api.app:create_app" if settings.workers > 1 else create_app(settings)
    serve_http(app, settings.host, settings.port, workers=settings.workers)

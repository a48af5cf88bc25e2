"""`python -m segment_api` serves the gateway: API_WORKERS processes, one per core by
default."""

from segment_api.settings import Settings
from segment_runtime.lifecycle import serve_http
from segment_runtime.metrics import share_between_processes

if __name__ == "__main__":
    settings = Settings()
    workers = settings.worker_count()
    if workers > 1:
        # Before any metric exists: each worker writes its own, /metrics adds them up.
        share_between_processes(f"segment-api-{settings.port}")
    from segment_api.http.app import create_app

    # Several workers each build their own app (and outbox relay: rows are claimed SKIP
    # LOCKED), from the factory's import string.
    app = "segment_api.http.app:create_app" if workers > 1 else create_app(settings)
    serve_http(app, settings.host, settings.port, workers=workers)

"""`python -m segment_api` serves the gateway (API_WORKERS processes, default one)."""

import uvicorn

from segment_api.app import create_app
from segment_api.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    if settings.workers > 1:
        # Each worker builds its own app (and outbox relay: rows are claimed SKIP LOCKED).
        uvicorn.run(
            "segment_api.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="warning",
            log_config=None,  # the JSON logging create_app set up
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            log_config=None,  # the JSON logging create_app set up
        )

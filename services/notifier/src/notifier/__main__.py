"""`python -m notifier` runs the notifier (Kafka consumers + websocket endpoint)."""

import uvicorn

from notifier.app import create_app
from notifier.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # the JSON logging create_app set up
    )

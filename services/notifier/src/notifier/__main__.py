"""`python -m notifier` runs the notifier (Kafka consumers + websocket endpoint)."""

from notifier.app import create_app
from notifier.settings import Settings
from segment_runtime.lifecycle import serve_http

if __name__ == "__main__":
    settings = Settings()
    serve_http(create_app(settings), settings.host, settings.port)

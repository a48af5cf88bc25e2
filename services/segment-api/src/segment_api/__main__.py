"""`python -m segment_api` serves the gateway."""

import uvicorn

from segment_api.app import create_app
from segment_api.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")

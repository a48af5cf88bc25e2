"""`python -m scheduler` runs the scheduler service, with its probes on SCHEDULER_PORT."""

import asyncio

from scheduler.app import create_app
from scheduler.settings import Settings
from segment_runtime.lifecycle import serve

if __name__ == "__main__":
    settings = Settings()
    asyncio.run(serve(create_app(settings), settings.host, settings.port))

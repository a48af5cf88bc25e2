"""`python -m compiler` runs the compiler service, with its probes on COMPILER_PORT."""

import asyncio

from compiler.service.app import create_app
from compiler.service.settings import Settings
from segment_runtime.lifecycle import serve

if __name__ == "__main__":
    settings = Settings()
    asyncio.run(serve(create_app(settings), settings.host, settings.port))

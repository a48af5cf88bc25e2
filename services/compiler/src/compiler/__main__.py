"""`python -m compiler` runs the compiler service."""

import asyncio

from compiler.service.app import create_app

if __name__ == "__main__":
    asyncio.run(create_app().run())

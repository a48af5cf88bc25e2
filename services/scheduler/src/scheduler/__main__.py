"""`python -m scheduler` runs the scheduler."""

import asyncio

from scheduler.app import create_app

if __name__ == "__main__":
    asyncio.run(create_app().run())

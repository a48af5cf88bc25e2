"""`python -m job_monitor` runs the job monitor."""

import asyncio

from job_monitor.app import create_app

if __name__ == "__main__":
    asyncio.run(create_app().run())

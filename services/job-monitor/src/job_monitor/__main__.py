"""`python -m job_monitor` runs the job monitor service, with its probes on JOB_MONITOR_PORT."""

import asyncio

from job_monitor.app import create_app
from job_monitor.settings import Settings
from segment_runtime.lifecycle import serve

if __name__ == "__main__":
    settings = Settings()
    asyncio.run(serve(create_app(settings), settings.host, settings.port))

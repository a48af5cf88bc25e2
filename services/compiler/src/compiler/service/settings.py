from __future__ import annotations

from typing import Literal

from pydantic import Field

from segment_runtime.settings import BigQuerySettings, KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings, BigQuerySettings):
    consumer_group: str = Field("compiler", alias="COMPILER_GROUP")
    # BigQuery documents query parameters for query jobs, not for DDL: a build is a
    # query job writing its member table (WRITE_TRUNCATE). The emulator ignores a query
    # job's destination, so the local stack builds with CREATE OR REPLACE TABLE AS.
    build_write: Literal["destination", "ctas"] = Field("destination", alias="BUILD_WRITE")

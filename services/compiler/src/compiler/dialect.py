"""The SQL dialect the compiler prints: BigQuery's, without the SELECT rewrites.

sqlglot's BigQuery generator rewrites every SELECT before printing it (EXPLODE in
a projection, DISTINCT ON, semi and anti joins, GROUP BY aliases that ORDER BY
reuses), copying the tree each time: a third of compile time. The compiler never
builds those shapes, so the rewrites cannot change its output; the golden tests
and the BigQuery analyzer check hold the printed SQL to that. Likewise CREATE
skips the search for a table function's RETURNS clause.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.generators.bigquery import BigQueryGenerator


class _Generator(BigQueryGenerator):
    TRANSFORMS = {  # noqa: RUF012 - sqlglot's own class-level table
        **{k: v for k, v in BigQueryGenerator.TRANSFORMS.items() if k is not exp.Select},
        # BigQuery's CREATE handler first searches the whole tree for a table function's
        # RETURNS; the compiler creates tables only.
        exp.Create: lambda self, e: self.create_sql(e),
    }


class PlatformBigQuery(BigQuery):
    Generator = _Generator


DIALECT = PlatformBigQuery()

"""The job monitor's own query: quoted from the job's target table, refused if that is
not a plain `project.dataset.table`."""

from __future__ import annotations

import pytest

from job_monitor.counts import changed_ids_sql, counts_sql


@pytest.mark.parametrize("sql_of", [counts_sql, changed_ids_sql])
def test_the_queries_quote_each_part_of_the_log_and_read_two_partitions(sql_of):
    sql = sql_of("proj-1.acct_ab12.segment_cd34_log")
    assert "FROM `proj-1`.`acct_ab12`.`segment_cd34_log` WHERE" in sql
    # the open intervals (the __NULL__ partition) and days from the build on, not before
    assert "WHERE (`exited_at` IS NULL OR `exited_at` >= @build_time)" in sql
    assert "@build_id" in sql


@pytest.mark.parametrize(
    "table",
    ["acct.segment", "p.d.t.x", "p.d.t`; DROP TABLE x; --", "p.d.", "p. d.t"],
)
@pytest.mark.parametrize("sql_of", [counts_sql, changed_ids_sql])
def test_a_table_that_is_not_plain_is_refused(table, sql_of):
    with pytest.raises(ValueError, match="not a table reference"):
        sql_of(table)

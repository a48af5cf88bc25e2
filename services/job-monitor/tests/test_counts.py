"""The job monitor's own query: quoted from the job's target table, refused if that is
not a plain `project.dataset.table`."""

from __future__ import annotations

import pytest

from job_monitor.counts import counts_sql


def test_counts_quote_each_part_of_the_table():
    sql = counts_sql("proj-1.acct_ab12.segment_cd34")
    assert sql.endswith("FROM `proj-1`.`acct_ab12`.`segment_cd34`")
    assert "COUNTIF(`entered_at` = @build_time)" in sql


@pytest.mark.parametrize(
    "table",
    ["acct.segment", "p.d.t.x", "p.d.t`; DROP TABLE x; --", "p.d.", "p. d.t"],
)
def test_a_table_that_is_not_plain_is_refused(table):
    with pytest.raises(ValueError, match="not a table reference"):
        counts_sql(table)

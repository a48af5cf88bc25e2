"""The rule language's own rules beyond the JSON Schema: which operators each condition
kind takes, which take no value, a list or a day count, and the caps on values. The
validator (compiler.typed) enforces these and the reference page is generated from
them, so the two cannot disagree."""

from __future__ import annotations

from contracts.catalog.model import COUNT_OPERATORS
from contracts.rules import Operator

NO_VALUE = frozenset(
    {
        Operator.IS_EMPTY,
        Operator.IS_NOT_EMPTY,
        Operator.IS_TRUE,
        Operator.IS_FALSE,
        Operator.DID_NOT_PERFORM,
    }
)
LIST_OPERATORS = frozenset(
    {
        Operator.IN_LIST,
        Operator.NOT_IN_LIST,
        Operator.CONTAINS_ANY,
        Operator.CONTAINS_ALL,
        Operator.CONTAINS_NONE,
    }
)
DAY_COUNT_OPERATORS = frozenset({Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO})

# A metric is a number that may be empty (avg, min, max and days since last over no rows).
METRIC_OPERATORS: tuple[Operator, ...] = (
    *COUNT_OPERATORS,
    Operator.IS_EMPTY,
    Operator.IS_NOT_EMPTY,
)
# Event and relationship counts are never empty: 0 is `did_not_perform`.
COUNT_KIND_OPERATORS: tuple[Operator, ...] = (*COUNT_OPERATORS, Operator.DID_NOT_PERFORM)

MAX_LIST_VALUES = 1000
MAX_TEXT_VALUE = 1000
MIN_DAY_COUNT, MAX_DAY_COUNT = 1, 36500  # in_last_days and more_than_days_ago

# `regularly`: how many whole periods back a condition may look.
MAX_PERIODS = {"day": 366, "week": 104, "month": 60}
# The conditions that read an event source's dated rows (sequence, first/last, lifecycle,
# regular behaviour).
BEHAVIOUR_KINDS = ("sequence", "occurrence", "stopped", "restarted", "regularly")

"""The reference page's section on the behaviour conditions: their examples and each
definition stated exactly (which rows count, how windows bound each step, ties, the
time zone, and what an object with no events is). `reference` puts it on the page."""

from __future__ import annotations

from typing import Any

from contracts.language import MAX_PERIODS

_CART = {"event": "ecommerce", "name": "add_to_cart"}
_PURCHASE = {"event": "ecommerce", "name": "purchase"}

EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "sequence",
        "Did the steps in order (2 to 5, by plan), each an event with filters; the days "
        "allowed after the previous step and for the whole; the window the first step "
        "falls in; and an optional final step that did not happen within days.",
        {
            "type": "sequence",
            "steps": [_CART, {"event": "ecommerce", "name": "checkout", "within_days": 2}],
            "then_not": {**_PURCHASE, "within_days": 2},
            "window": {"kind": "previous_days", "days": 30},
        },
    ),
    (
        "occurrence",
        "The first (or last) such event fell in the window and matched `where`: "
        '"bought for the first time in the last 30 days", "the first visit came from a '
        'campaign".',
        {
            "type": "occurrence",
            "which": "first",
            **_PURCHASE,
            "window": {"kind": "previous_days", "days": 30},
        },
    ),
    (
        "stopped",
        "Did it at least N times in a base period, and not in the last M days.",
        {"type": "stopped", **_PURCHASE, "at_least": 3, "base_days": 90, "recent_days": 60},
    ),
    (
        "restarted",
        "Did it again after a gap of at least G days, the return in the window.",
        {
            "type": "restarted",
            **_PURCHASE,
            "gap_days": 90,
            "window": {"kind": "previous_days", "days": 30},
        },
    ),
    (
        "regularly",
        "Did it in at least K of the last N whole days, weeks or months.",
        {"type": "regularly", **_PURCHASE, "period": "week", "at_least": 3, "of_last": 4},
    ),
]


def behaviour_markdown() -> list[str]:
    caps = ", ".join(f"{n} {p}s" for p, n in MAX_PERIODS.items())
    return [
        "## Behaviour conditions: order and habit",
        "",
        "`sequence`, `occurrence`, `stopped`, `restarted` and `regularly` read one event",
        "source's rows of the object, as an `event` condition does:",
        "",
        "- **Which rows count.** The source's rows (for the customer's sources, their",
        "  `kind`), of the `name` if one is given, that pass every filter, and that have a",
        "  date. A row without a date takes part in nothing.",
        "- **Order and ties.** Rows are ordered by their date, then by their event id: two",
        "  events on the same day are taken in the order of their ids (the warehouse keeps",
        "  the day, not the time; ids grow as events are recorded). The order is strict, so",
        "  one event never stands for two steps.",
        "- **Time zone.** Event dates are compared as the warehouse holds them. The build",
        "  date is today in the account's time zone, and every relative bound (windows,",
        "  `recent_days`, the last N periods) counts back from it.",
        "- **No events.** An object without such rows (or with too few) is never a member",
        "  of these conditions, and their negation (`negate` on a group) selects it. So",
        '  "stopped buying" does not include people who never bought: the common "has',
        '  not done X" trap is avoided by saying what they did before.',
        "",
        "**`sequence`.** The object has rows e1, …, ek, one per step and in order (each",
        "strictly after the last), with e1 inside the `window` (the condition's own, else",
        "its group's; none means any time). A later step's `within_days` G means its day is",
        "at most G days after the previous step's day (same day allowed); the first step",
        "takes none. `total_within_days` T bounds the last step's day to at most T days",
        "after the first's; no step's G may exceed T (`gap_exceeds_window`). Any",
        "occurrences that complete the order count, so a repeated first step restarts",
        "nothing: the latest one that fits is as good as any. `then_not` with",
        "`within_days` D: no such row comes after ek up to D days after ek's day, and",
        "those days have all passed before the build date (until then the object is not",
        "yet a member). Every step and `then_not` read the same rows as the first step",
        "(one relation; `mixed_event_sources` otherwise).",
        "",
        "**`occurrence`.** `which: first` takes the object's earliest such row (`last` its",
        "latest), by the order above, over all time: the `window` does not narrow which",
        "row is first, it says where that row must fall. `where` holds conditions that",
        "row must pass (the first visit's `page_url`, the first order's `channel`).",
        "",
        "**`stopped`.** With M = `recent_days` and B = `base_days`: at least `at_least`",
        "rows in the B days before the recent period, [build date - (M + B), build date -",
        "M - 1], and none in the recent period, [build date - M, build date], today",
        "included. A group's window does not apply.",
        "",
        "**`restarted`.** Some row whose previous such row (in order) is at least",
        "`gap_days` days earlier, that row inside the `window` (the previous one may lie",
        "before it). The object's first row ever is no return.",
        "",
        "**`regularly`.** Periods are whole days, weeks (Monday to Sunday) or calendar",
        "months. The build date's period is the current one and does not count; the",
        "object has rows in at least `at_least` distinct periods among the `of_last`",
        "periods before it. A group's window does not apply. `of_last` is at most",
        f"{caps}; `at_least` may not exceed it.",
        "",
        "## Splits and holdouts",
        "",
        "A segment (not its rules) may carry a `split`: named buckets whose percentages",
        "(at most two decimals) sum to 100, at most the plan's `max_split_buckets`.",
        "",
        "```json",
        '{"buckets": [{"name": "A", "percent": 45}, {"name": "B", "percent": 45},',
        '             {"name": "holdout", "percent": 10}]}',
        "```",
        "",
        "- A member's slot is `FARM_FINGERPRINT(seed || ':' || id)` modulo 10,000, brought",
        "  into 0-9,999; the seed is the segment's own, made once. Each bucket owns ranges of",
        "  slots, so a member's bucket never changes while it stays a member and the split",
        "  layout stays, and it is independent of any other segment's split.",
        "- New percentages keep each bucket's slots as far as they can: a shrinking bucket",
        "  gives up its last slots, a growing or new one takes only slots given up. No",
        "  member moves but those the change requires.",
        '- `{"type": "segment", "segment_id": ..., "bucket": "holdout"}` is membership of',
        "  that bucket only (`unknown_bucket`, `no_split` otherwise); a change of the split",
        "  rebuilds the segment, and so the segments that embed it.",
        "",
    ]

"""Time built-ins: ISO 8601 in UTC unless a zone is given, JavaScript's toISOString shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
WHEN = "2024-03-05T10:20:30Z"


def ev(source: str, scope: dict[str, Any] | None = None) -> Any:
    return compile_expression(source).evaluate({"when": WHEN, **(scope or {})})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("format_date(when, 'yyyy-MM-dd HH:mm')", "2024-03-05 10:20"),
        ("format_date(when, 'd/M/yy H:mm:ss')", "5/3/24 10:20:30"),
        ("format_date('2024-03-05T10:20:30.045Z', 'ss.SSS')", "30.045"),
        ("format_date(when, \"yyyy-MM-dd'T'HH 'at' mm\")", "2024-03-05T10 at 20"),
        ("format_date(when, \"HH 'o''clock'\")", "10 o'clock"),
        ("format_date(when, 'HH:mm', 'Europe/Paris')", "11:20"),
        ("format_date(when, 'HH:mm', 'America/New_York')", "05:20"),
        ("format_date(when, 'HH:mm', '+05:30')", "15:50"),
        ("format_date(when)", "2024-03-05T10:20:30"),
        ("format_date('2024-03-05', 'yyyy-MM-dd HH:mm')", "2024-03-05 00:00"),
        ("format_date(0, 'yyyy')", "1970"),
        ("format_date('nonsense', 'yyyy')", None),
        ("format_date(add_time('2024-02-28T12:00:00Z', 'P1D'), 'yyyy-MM-dd')", "2024-02-29"),
        ("format_date(add_time('2024-02-28T12:00:00Z', {days: 2}), 'yyyy-MM-dd')", "2024-03-01"),
        ("add_time('2024-02-28T12:00:00Z', 'P1D')", "2024-02-29T12:00:00.000Z"),
        ("add_time('2024-01-31T00:00:00Z', 'P1M')", "2024-02-29T00:00:00.000Z"),  # calendar-aware
        ("add_time(when, 'PT2H30M')", "2024-03-05T12:50:30.000Z"),
        ("add_time(when, {hours: 1, minutes: 30, milliseconds: 5})", "2024-03-05T11:50:30.005Z"),
        ("add_time(when, 1000)", "2024-03-05T10:20:31.000Z"),
        ("add_time(when, 'P1Y')", "2025-03-05T10:20:30.000Z"),
        ("add_time(when, '-P1D')", "2024-03-04T10:20:30.000Z"),
        ("subtract_time('2024-03-01T00:00:00Z', 'P1D')", "2024-02-29T00:00:00.000Z"),
        ("subtract_time(when, {weeks: 1})", "2024-02-27T10:20:30.000Z"),
        ("diff('2024-03-05T00:00:00Z', '2024-03-04T00:00:00Z')", 86_400_000),
        ("diff('2024-03-05T00:00:00Z', '2024-03-01T12:00:00Z', 'days')", 3),
        ("diff('2024-03-01T00:00:00Z', '2024-03-05T12:00:00Z', 'days')", -4),  # truncated toward zero
        ("diff('2024-03-05T10:00:00Z', '2024-03-05T08:30:00Z', 'hours')", 1),
        ("diff('2024-03-05T10:00:00Z', '2024-03-05T08:30:00Z', 'minutes')", 90),
        ("diff('2024-03-05T00:00:00Z', '2023-01-31T00:00:00Z', 'months')", 13),
        ("diff('2024-03-05T00:00:00Z', '2023-03-06T00:00:00Z', 'years')", 0),
        ("diff('2024-03-15T00:00:00Z', '2024-03-01T00:00:00Z', 'weeks')", 2),
        ("diff(when, null)", None),
        ("timestamp('1970-01-01T00:00:01Z')", 1000),
        ("timestamp('1969-12-31T23:59:59Z')", -1000),
        ("timestamp('garbage')", None),
        ("from_timestamp(1000)", "1970-01-01T00:00:01.000Z"),
        ("from_timestamp(1709634030000)", "2024-03-05T10:20:30.000Z"),
        ("from_timestamp(1e20)", None),
        ("parse_date('2024-03-05T12:20:30+02:00')", "2024-03-05T10:20:30.000Z"),
        ("parse_date('2024-03-05')", "2024-03-05T00:00:00.000Z"),
        ("parse_date('March 5, 2024 10:20')", "2024-03-05T10:20:00.000Z"),
        ("parse_date('05/03/2024', 'dd/MM/yyyy')", "2024-03-05T00:00:00.000Z"),
        ("parse_date('2024-03-05 10:00', null, 'Europe/Paris')", "2024-03-05T09:00:00.000Z"),
        ("parse_date('31/02/2024', 'dd/MM/yyyy')", None),
        ("parse_date('not a date')", None),
        ("start_of(when, 'day')", "2024-03-05T00:00:00.000Z"),
        ("start_of(when, 'week')", "2024-03-04T00:00:00.000Z"),  # weeks start on Monday
        ("start_of(when, 'month')", "2024-03-01T00:00:00.000Z"),
        ("start_of(when, 'year')", "2024-01-01T00:00:00.000Z"),
        ("start_of(when, 'hour')", "2024-03-05T10:00:00.000Z"),
        ("start_of(when, 'minute')", "2024-03-05T10:20:00.000Z"),
        ("start_of('2024-03-05T10:20:30.123Z', 'second')", "2024-03-05T10:20:30.000Z"),
        ("start_of(when, 'day', 'Europe/Paris')", "2024-03-04T23:00:00.000Z"),
        ("end_of(when, 'day')", "2024-03-05T23:59:59.999Z"),
        ("end_of('2024-02-10T00:00:00Z', 'month')", "2024-02-29T23:59:59.999Z"),
        ("end_of(when, 'week')", "2024-03-10T23:59:59.999Z"),
        ("end_of(when, 'year')", "2024-12-31T23:59:59.999Z"),
        ("get_part(when, 'year')", 2024),
        ("get_part(when, 'month')", 3),
        ("get_part(when, 'day')", 5),
        ("get_part(when, 'hour')", 10),
        ("get_part(when, 'minute')", 20),
        ("get_part(when, 'second')", 30),
        ("get_part(when, 'weekday')", 2),  # Tuesday; 0 is Sunday as in JavaScript
        ("get_part(when, 'hour', 'Asia/Tokyo')", 19),
        ("get_part(when, 'quarter')", 1),
        ("get_part(when, 'dayOfYear')", 65),
        ("is_before('2024-01-01T00:00:00Z', '2024-06-01T00:00:00Z')", True),
        ("is_before('2024-06-01T00:00:00Z', '2024-01-01T00:00:00Z')", False),
        ("is_after('2024-06-01T00:00:00Z', '2024-01-01T00:00:00Z')", True),
        ("is_after(null, when)", False),
        ("relative('2024-03-05T07:20:30Z', when)", "3 hours ago"),
        ("relative('2024-03-07T10:20:30Z', when)", "in 2 days"),
        ("relative('2024-03-05T10:20:10Z', when)", "just now"),
        ("relative('2024-03-05T10:21:30Z', when)", "in 1 minute"),
        ("relative('2023-03-05T10:20:30Z', when)", "1 year ago"),
        ("relative('2024-01-05T10:20:30Z', when)", "2 months ago"),
    ],
)
def test_time_functions(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_now_and_clock_functions() -> None:
    before = datetime.now(UTC)
    now = ev("now()")
    assert ISO.fullmatch(now)
    parsed = datetime.fromisoformat(now)
    assert abs((parsed - before).total_seconds()) < 5
    assert ev("date()") == ev("format_date(now(), 'yyyy-MM-dd')")
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", ev("time()"))
    assert re.fullmatch(r"\d{4}", ev("date('yyyy')"))
    assert re.fullmatch(r"\d{2}h\d{2}", ev("time(\"HH'h'mm\", 'Europe/Paris')"))
    assert abs(ev("timestamp()") - before.timestamp() * 1000) < 5000
    assert ev("relative(now())") == "just now"


@pytest.mark.parametrize(
    "source",
    ["add_time(when, 'P1X')", "add_time(when, {fortnights: 1})", "add_time(when, 'P1.5M')",
     "diff(when, when, 'aeons')",
     "start_of(when, 'decade')", "get_part(when, 'era')", "format_date(when, 'yyyy', 'Mars/Olympus')",
     "format_date(when, 'yyyy', 42)", "add_time(when, true)"],
)
def test_author_mistakes_are_errors(source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(source)
    assert info.value.code == "EXPR_EVAL_ERROR"


@pytest.mark.parametrize("fn", ["format_date", "add_time", "subtract_time", "start_of", "end_of",
                                "timestamp"])
def test_unreadable_dates_give_null(fn: str) -> None:
    args = {"format_date": "'yyyy'", "add_time": "'P1D'", "subtract_time": "'P1D'", "start_of": "'day'",
            "end_of": "'day'", "timestamp": None}[fn]
    for bad in ("'nonsense'", "null", "true", "[1]"):
        source = f"{fn}({bad}{', ' + args if args else ''})"
        assert ev(source) is None, source

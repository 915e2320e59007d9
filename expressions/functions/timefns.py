"""Time built-ins over ISO 8601 strings (UTC unless a zone is given).

An unreadable or null date gives null (dates come from data); an invalid duration, unit,
part or zone is an error (those come from the workflow author). Durations are calendar-
aware: adding P1M to January 31 gives the last day of February.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flowscript.expressions.functions.common import eval_error, text
from flowscript.expressions.functions.dates import (
    duration,
    format_datetime,
    from_millis,
    iso,
    now_utc,
    parse_with_format,
    to_datetime,
    to_millis,
    zone,
)
from flowscript.expressions.functions.lazy import lazy
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.values import to_number

if TYPE_CHECKING:
    from dateutil import relativedelta as _rd
else:
    _rd = lazy("dateutil.relativedelta")


@builtin("time")
def now() -> str:
    """now()
    The current instant: "2024-03-05T10:20:30.123Z"."""
    return iso(now_utc())


@builtin("time", name="date")
def date_(format: Any = None, tz: Any = None) -> str:
    """date(format="yyyy-MM-dd", zone="UTC")
    Today's date, formatted with the tokens yyyy yy MM M dd d HH H mm ss SSS."""
    return format_datetime(now_utc(), "yyyy-MM-dd" if format is None else text(format), zone(tz))


@builtin("time", name="time")
def time_(format: Any = None, tz: Any = None) -> str:
    """time(format="HH:mm:ss", zone="UTC")
    The current time of day, formatted."""
    return format_datetime(now_utc(), "HH:mm:ss" if format is None else text(format), zone(tz))


@builtin("time")
def parse_date(value: Any, format: Any = None, tz: Any = None) -> str | None:
    """parse_date(s, format?, zone="UTC")
    The instant a date text denotes, as ISO 8601 UTC; null when it cannot be read. Without a
    format, ISO 8601 and common spellings ("March 5, 2024 10:20") are read."""
    if format is not None and isinstance(value, str):
        dt = parse_with_format(value, text(format), zone(tz))
    else:
        dt = to_datetime(value, lenient=True, tz=zone(tz))
    return None if dt is None else _iso_or_none(dt)


def _iso_or_none(dt: datetime) -> str | None:
    try:
        return iso(dt)
    except (OverflowError, ValueError):
        return None


@builtin("time")
def format_date(value: Any, format: Any = None, tz: Any = None) -> str | None:
    """format_date(iso, format="yyyy-MM-dd'T'HH:mm:ss", zone="UTC")
    The instant formatted with the tokens yyyy yy MM M dd d HH H mm ss SSS, in the zone
    (IANA name or offset); text in single quotes is literal."""
    dt = to_datetime(value)
    if dt is None:
        return None
    try:
        return format_datetime(dt, "yyyy-MM-dd'T'HH:mm:ss" if format is None else text(format), zone(tz))
    except (OverflowError, ValueError):
        return None


def _shift(value: Any, amount: Any, sign: int) -> str | None:
    dt = to_datetime(value)
    if dt is None or amount is None:
        return None if dt is None else iso(dt)
    delta = duration(amount)
    try:
        return iso(dt + delta if sign > 0 else dt - delta)
    except (OverflowError, ValueError):
        return None


@builtin("time")
def add_time(value: Any, amount: Any) -> str | None:
    """add_time(iso, duration)
    The instant plus a duration: "P1D", "PT2H30M", {days: 1, hours: 2} or milliseconds."""
    return _shift(value, amount, 1)


@builtin("time")
def subtract_time(value: Any, amount: Any) -> str | None:
    """subtract_time(iso, duration)
    The instant minus a duration."""
    return _shift(value, amount, -1)


_UNIT_MICROS = {
    "milliseconds": 1000, "seconds": 1_000_000, "minutes": 60_000_000, "hours": 3_600_000_000,
    "days": 86_400_000_000, "weeks": 604_800_000_000,
}  # fmt: skip
_UNIT_NAMES = {
    "ms": "milliseconds", "millisecond": "milliseconds", "milliseconds": "milliseconds",
    "s": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months",
    "y": "years", "year": "years", "years": "years",
}  # fmt: skip


def _unit(unit: Any, default: str) -> str:
    if unit is None:
        return default
    name = _UNIT_NAMES.get(text(unit).strip().lower()) if isinstance(unit, str) else None
    if name is None:
        raise eval_error(f"unknown time unit {unit!r} (milliseconds, seconds, minutes, hours, days, weeks, "
                         "months, years)")
    return name


@builtin("time")
def diff(a: Any, b: Any, unit: Any = None) -> int | None:
    """diff(a, b, unit="milliseconds")
    a - b in whole units (truncated toward zero): milliseconds, seconds, minutes, hours, days,
    weeks, or calendar months and years."""
    name = _unit(unit, "milliseconds")
    x, y = to_datetime(a), to_datetime(b)
    if x is None or y is None:
        return None
    if name in ("months", "years"):
        rd = _rd.relativedelta(x, y)
        months = rd.years * 12 + rd.months
        return months if name == "months" else int(months / 12)
    micros = (x - y) // timedelta(microseconds=1)
    q = abs(micros) // _UNIT_MICROS[name]
    return q if micros >= 0 else -q


@builtin("time", max_args=1)
def timestamp(*value: Any) -> int | None:
    """timestamp(iso?)
    Milliseconds since 1970-01-01T00:00:00Z: of now, or of the given instant (null for null)."""
    dt = to_datetime(value[0]) if value else now_utc()
    return None if dt is None else to_millis(dt)


@builtin("time")
def from_timestamp(ms: Any) -> str | None:
    """from_timestamp(ms)
    The instant `ms` milliseconds after the epoch, as ISO 8601."""
    if ms is None:
        return None
    dt = from_millis(to_number(ms))
    return None if dt is None else _iso_or_none(dt)


_STARTS = ("year", "month", "week", "day", "hour", "minute", "second")


def _start(dt: datetime, unit: str) -> datetime:
    if unit == "year":
        return dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=day.weekday())
    if unit == "day":
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return dt.replace(second=0, microsecond=0)
    return dt.replace(microsecond=0)


def _boundary(value: Any, unit: Any, tz: Any, end: bool) -> str | None:
    name = text(unit).strip().lower().rstrip("s") if unit is not None else "day"
    if name not in _STARTS:
        raise eval_error(f"unknown unit {unit!r} (year, month, week, day, hour, minute, second)")
    dt = to_datetime(value)
    if dt is None:
        return None
    try:
        start = _start(dt.astimezone(zone(tz)), name)
        if not end:
            return iso(start)
        step = _rd.relativedelta(**{("weeks" if name == "week" else name + "s"): 1})  # type: ignore[arg-type]
        return iso(start + step - timedelta(milliseconds=1))
    except (OverflowError, ValueError):
        return None


@builtin("time")
def start_of(value: Any, unit: Any = "day", tz: Any = None) -> str | None:
    """start_of(iso, unit="day", zone="UTC")
    The first millisecond of the year, month, week (weeks start on Monday), day, hour,
    minute or second holding the instant, in the zone."""
    return _boundary(value, unit, tz, False)


@builtin("time")
def end_of(value: Any, unit: Any = "day", tz: Any = None) -> str | None:
    """end_of(iso, unit="day", zone="UTC")
    The last millisecond of that year, month, week, day, hour, minute or second."""
    return _boundary(value, unit, tz, True)


_PARTS = {
    "year": lambda d: d.year, "month": lambda d: d.month, "day": lambda d: d.day,
    "hour": lambda d: d.hour, "minute": lambda d: d.minute, "second": lambda d: d.second,
    "millisecond": lambda d: d.microsecond // 1000,
    "weekday": lambda d: (d.weekday() + 1) % 7,  # JavaScript's getDay: 0 = Sunday
    "week": lambda d: d.isocalendar()[1], "quarter": lambda d: (d.month - 1) // 3 + 1,
    "dayofyear": lambda d: d.timetuple().tm_yday,
}  # fmt: skip


@builtin("time")
def get_part(value: Any, part: Any, tz: Any = None) -> int | None:
    """get_part(iso, part, zone="UTC")
    One field of the instant: year, month (1-12), day, hour, minute, second, millisecond,
    weekday (0 = Sunday), week (ISO week number), quarter or dayOfYear."""
    key = text(part).strip().lower().replace("_", "")
    if key.endswith("s") and key[:-1] in _PARTS:
        key = key[:-1]
    getter = _PARTS.get(key)
    if getter is None:
        raise eval_error(f"unknown date part {part!r} (year, month, day, hour, minute, second, millisecond, "
                         "weekday, week, quarter, dayOfYear)")
    dt = to_datetime(value)
    if dt is None:
        return None
    try:
        return getter(dt.astimezone(zone(tz)))
    except (OverflowError, ValueError):
        return None


@builtin("time")
def is_before(a: Any, b: Any) -> bool:
    """is_before(a, b)
    Whether instant a is earlier than instant b (false when either is not a date)."""
    x, y = to_datetime(a), to_datetime(b)
    return x is not None and y is not None and x < y


@builtin("time")
def is_after(a: Any, b: Any) -> bool:
    """is_after(a, b)
    Whether instant a is later than instant b."""
    x, y = to_datetime(a), to_datetime(b)
    return x is not None and y is not None and x > y


_RELATIVE_STEPS = (
    (45, 1, "second"), (45 * 60, 60, "minute"), (22 * 3600, 3600, "hour"), (26 * 86400, 86400, "day"),
    (320 * 86400, 30.4375 * 86400, "month"), (float("inf"), 365.25 * 86400, "year"),
)  # fmt: skip


@builtin("time")
def relative(value: Any, base: Any = None) -> str | None:
    """relative(iso, base=now)
    The instant described from base: "just now", "5 minutes ago", "in 2 days", "3 months ago"."""
    dt = to_datetime(value)
    ref = now_utc() if base is None else to_datetime(base)
    if dt is None or ref is None:
        return None
    seconds = (dt - ref).total_seconds()
    span = abs(seconds)
    if span < 45:
        return "just now"
    _, size, unit = next(step for step in _RELATIVE_STEPS[1:] if span < step[0])
    count = max(1, int(span / size + 0.5))
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if seconds > 0 else f"{words} ago"

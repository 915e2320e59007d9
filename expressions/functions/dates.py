"""Date helpers for the time built-ins: reading instants, zones, durations, formats.

Instants travel as ISO 8601 strings in UTC with milliseconds, exactly as JavaScript's
toISOString prints them (`2024-02-29T12:00:00.000Z`). A string without a zone is UTC; a
number is milliseconds since the epoch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flowscript.expressions.functions.common import eval_error
from flowscript.expressions.functions.lazy import lazy
from flowscript.expressions.values import is_number, to_number, type_name

if TYPE_CHECKING:
    import zoneinfo

    import isodate
    from dateutil import parser as dateutil_parser
    from dateutil import relativedelta as _rd
else:
    isodate = lazy("isodate")
    dateutil_parser = lazy("dateutil.parser")
    zoneinfo = lazy("zoneinfo")
    _rd = lazy("dateutil.relativedelta")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\Z")


def iso(dt: datetime) -> str:
    """JavaScript's toISOString: UTC, milliseconds, 'Z'."""
    u = dt.astimezone(UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
            f".{u.microsecond // 1000:03d}Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def from_millis(ms: int | float) -> datetime | None:
    if ms != ms:
        return None
    try:
        return EPOCH + timedelta(milliseconds=ms)
    except (OverflowError, ValueError):
        return None


def to_millis(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


def to_datetime(value: Any, *, lenient: bool = False, tz: tzinfo = UTC) -> datetime | None:
    """An instant from an ISO string, a millisecond timestamp or a datetime; None when invalid.

    A text without a zone is read in `tz` (UTC unless told); `lenient` also accepts common
    spellings such as "March 5, 2024"."""
    if value is None or isinstance(value, bool):
        return None
    if is_number(value):
        return from_millis(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    dt = _parse_iso(text)
    if dt is None and lenient:
        try:
            dt = dateutil_parser.parse(text, default=datetime(1970, 1, 1))
        except (ValueError, OverflowError, TypeError, ArithmeticError):
            return None
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dateutil_parser.isoparse(text)
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None


def zone(name: Any) -> tzinfo:
    """A time zone from an IANA name ("Europe/Paris"), "UTC"/"Z" or an offset ("+02:00")."""
    if name is None:
        return UTC
    if not isinstance(name, str):
        raise eval_error(f"a time zone must be a name such as 'Europe/Paris', got {type_name(name)}")
    return _zone(name)


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT", ""):
        return UTC
    m = _OFFSET.match(text)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        if minutes >= 24 * 60:
            raise eval_error(f"invalid time zone offset '{text}'")
        return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except Exception:  # zoneinfo raises several types for bad keys (ValueError, OSError...)
        raise eval_error(f"unknown time zone '{text}'") from None


_DURATION_UNITS = {
    "years": "years", "year": "years", "y": "years",
    "months": "months", "month": "months",
    "weeks": "weeks", "week": "weeks", "w": "weeks",
    "days": "days", "day": "days", "d": "days",
    "hours": "hours", "hour": "hours", "h": "hours",
    "minutes": "minutes", "minute": "minutes",
    "seconds": "seconds", "second": "seconds", "s": "seconds",
    "milliseconds": "milliseconds", "millisecond": "milliseconds", "ms": "milliseconds",
}  # fmt: skip


def duration(value: Any) -> _rd.relativedelta:
    """"P1DT2H" (ISO 8601), {days: 1, hours: 2} or a number of milliseconds, as a relativedelta."""
    if is_number(value):
        return _rd.relativedelta(microseconds=_finite(value, "duration") * 1000)  # type: ignore[arg-type]  # floats work; the stubs say int
    if isinstance(value, str):
        try:
            parsed = isodate.parse_duration(value.strip())
        except (isodate.ISO8601Error, ValueError, TypeError, ArithmeticError):
            raise eval_error(f"invalid ISO 8601 duration '{value}' (e.g. 'P1D', 'PT2H30M')") from None
        if isinstance(parsed, timedelta):
            return _rd.relativedelta(days=parsed.days, seconds=parsed.seconds, microseconds=parsed.microseconds)
        years, months = float(parsed.years), float(parsed.months)
        if not (years.is_integer() and months.is_integer()):
            raise eval_error(f"fractional years or months are not supported in '{value}'")
        t = parsed.tdelta
        return _rd.relativedelta(years=int(years), months=int(months), days=t.days, seconds=t.seconds,
                             microseconds=t.microseconds)
    if isinstance(value, Mapping):
        fields: dict[str, float] = {}
        for key, amount in value.items():
            unit = _DURATION_UNITS.get(str(key).lower())
            if unit is None:
                raise eval_error(f"unknown duration unit '{key}' (years, months, weeks, days, hours, "
                                 "minutes, seconds, milliseconds)")
            if amount is None:
                continue
            n = _finite(to_number(amount), f"duration {key}")
            fields[unit] = fields.get(unit, 0) + n
        for unit in ("years", "months"):
            if unit in fields and not float(fields[unit]).is_integer():
                raise eval_error(f"fractional {unit} are not supported in a duration")
        ms = fields.pop("milliseconds", 0)
        try:
            units: dict[str, Any] = {unit: fields.get(unit, 0)
                                     for unit in ("weeks", "days", "hours", "minutes", "seconds")}
            return _rd.relativedelta(years=int(fields.get("years", 0)), months=int(fields.get("months", 0)),
                                 microseconds=ms * 1000, **units)  # type: ignore[arg-type]  # floats work
        except (OverflowError, ValueError) as e:
            raise eval_error(f"invalid duration: {e}") from None
    raise eval_error("a duration is an ISO 8601 string ('P1D'), an object ({days: 1}) or milliseconds")


def _finite(n: Any, what: str) -> float:
    if not is_number(n) or n != n or n in (float("inf"), float("-inf")):
        raise eval_error(f"{what} must be a finite number")
    if abs(n) > 1e15:
        raise eval_error(f"{what} is too large")
    return n


# ---------------------------------------------------------------------- formats

_FORMAT_TOKEN = re.compile(r"'((?:[^']|'')*)'|yyyy|yy|MM|M|dd|d|HH|H|mm|ss|SSS|[^'yMdHmsS]+|.", re.S)


@lru_cache(maxsize=256)
def _format_parts(fmt: str) -> tuple[tuple[bool, str], ...]:
    """(is_token, text) pieces of a format; quoted text ('at') and other letters are literal."""
    parts: list[tuple[bool, str]] = []
    for m in _FORMAT_TOKEN.finditer(fmt):
        if m.group(1) is not None:
            parts.append((False, m.group(1).replace("''", "'") if m.group(1) else "'"))
        elif m.group() in _FIELDS:
            parts.append((True, m.group()))
        else:
            parts.append((False, m.group()))
    return tuple(parts)


_FIELDS = {
    "yyyy": lambda d: f"{d.year:04d}",
    "yy": lambda d: f"{d.year % 100:02d}",
    "MM": lambda d: f"{d.month:02d}",
    "M": lambda d: str(d.month),
    "dd": lambda d: f"{d.day:02d}",
    "d": lambda d: str(d.day),
    "HH": lambda d: f"{d.hour:02d}",
    "H": lambda d: str(d.hour),
    "mm": lambda d: f"{d.minute:02d}",
    "ss": lambda d: f"{d.second:02d}",
    "SSS": lambda d: f"{d.microsecond // 1000:03d}",
}


def format_datetime(dt: datetime, fmt: str, tz: tzinfo) -> str:
    """Formats with the tokens yyyy yy MM M dd d HH H mm ss SSS in the given zone."""
    local = dt.astimezone(tz)
    return "".join(_FIELDS[text](local) if token else text for token, text in _format_parts(fmt))


_PARSE_FIELDS = {
    "yyyy": r"(?P<year>\d{4})", "yy": r"(?P<yy>\d{2})", "MM": r"(?P<month>\d{2})", "M": r"(?P<month>\d{1,2})",
    "dd": r"(?P<day>\d{2})", "d": r"(?P<day>\d{1,2})", "HH": r"(?P<hour>\d{2})", "H": r"(?P<hour>\d{1,2})",
    "mm": r"(?P<minute>\d{2})", "ss": r"(?P<second>\d{2})", "SSS": r"(?P<ms>\d{3})",
}  # fmt: skip


@lru_cache(maxsize=256)
def _parse_pattern(fmt: str) -> re.Pattern[str] | None:
    pattern = []
    seen: set[str] = set()
    for token, text in _format_parts(fmt):
        if token:
            group = _PARSE_FIELDS[text]
            name = group[4:group.index(">")]
            if name in seen:
                return None
            seen.add(name)
            pattern.append(group)
        else:
            pattern.append(re.escape(text))
    return re.compile("".join(pattern) + r"\Z")


def parse_with_format(text: str, fmt: str, tz: tzinfo) -> datetime | None:
    """Reads text written in a format (inverse of format_datetime); None when it does not match."""
    pattern = _parse_pattern(fmt)
    m = pattern.match(text.strip()) if pattern else None
    if not m:
        return None
    g = m.groupdict()
    year = int(g["year"]) if g.get("year") else 2000 + int(g["yy"]) if g.get("yy") else 1970
    try:
        local = datetime(year, int(g.get("month") or 1), int(g.get("day") or 1), int(g.get("hour") or 0),
                         int(g.get("minute") or 0), int(g.get("second") or 0), int(g.get("ms") or 0) * 1000,
                         tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)

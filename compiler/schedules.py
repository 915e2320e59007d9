"""A workflow's schedule, read from its frontmatter trigger (docs/language.md#frontmatter, docs/deploying.md).

`trigger: {type: schedule, config: {cron: "0 6 * * *", timezone: Europe/Paris}}` or
`config: {interval: 3600}` (seconds, or an ISO 8601 duration such as `PT1H`). Manual and
webhook triggers have no schedule. A bad timezone or interval is a validation error naming
the field. Whether a cron line is one Prefect accepts is Prefect's to say: the compiler
never imports Prefect, so `flowscript.deployments.check_schedules` judges the cron text
with Prefect's own validation (`validate` and `deploy` call it). zoneinfo and isodate are
imported by the checks that need them: a run without a schedule never loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flowscript.compiler.ast import Workflow
from flowscript.errors import SourceLocation, ValidationError

_KNOWN_KEYS = ("cron", "timezone", "interval")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A checked schedule: a cron line or an interval, and its timezone."""

    cron: str | None = None
    interval: timedelta | None = None
    timezone: str | None = None
    location: SourceLocation | None = field(default=None, compare=False)  # the trigger's config in the file


def schedule_of(workflow: Workflow) -> Schedule | None:
    """The workflow's schedule, or None when its trigger is not `schedule`. Raises ValidationError."""
    trigger = workflow.meta.trigger
    if trigger.type != "schedule":
        return None
    config = trigger.config
    where = workflow.meta_locations.get("trigger.config") or workflow.meta_locations.get("trigger")
    location = SourceLocation(where.line, where.column, workflow.path) if where else None

    def invalid(field: str, message: str, hint: str) -> ValidationError:
        return ValidationError(f"trigger.config.{field}: {message}", code="VALID_INVALID_SCHEDULE", hint=hint,
                               location=location)

    unknown = [k for k in config if k not in _KNOWN_KEYS]
    if unknown:
        raise invalid(unknown[0], "unknown schedule setting", f"a schedule has {', '.join(_KNOWN_KEYS)}")
    cron, interval, timezone = config.get("cron"), config.get("interval"), config.get("timezone")
    if (cron is None) == (interval is None):
        raise invalid("cron", "a schedule needs exactly one of cron and interval",
                      'e.g. {cron: "0 6 * * *", timezone: Europe/Paris} or {interval: 3600}')
    if timezone is not None:
        if not isinstance(timezone, str):
            raise invalid("timezone", f"{timezone!r} is not a timezone name", "e.g. Europe/Paris or UTC")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid("timezone", f"unknown timezone {timezone!r}", "an IANA name: Europe/Paris, UTC...") from None
    if cron is not None:
        if not isinstance(cron, str) or not cron.strip():
            raise invalid("cron", f"{cron!r} is not a cron line", 'five fields, e.g. "0 6 * * *"')
        return Schedule(cron=cron, timezone=timezone, location=location)
    return Schedule(interval=_interval(interval, invalid), timezone=timezone, location=location)


def _interval(value: object, invalid: Callable[[str, str, str], ValidationError]) -> timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        import isodate

        try:
            duration = isodate.parse_duration(value)
        except (isodate.ISO8601Error, ValueError):
            duration = None
        if isinstance(duration, timedelta) and duration.total_seconds() > 0:
            return duration
    raise invalid("interval", f"{value!r} is not a positive interval",
                  "seconds (3600) or an ISO 8601 duration (PT1H)")

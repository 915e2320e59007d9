"""A workflow's schedule as Prefect takes it, judged by Prefect's own code
(docs/deploying.md#schedules).

The compiler reads the trigger (`compiler/schedules.py`: which fields, the timezone, the
interval) without importing Prefect; the cron text is Prefect's to accept: what
`validate_cron_string` (the check of Prefect's CronSchedule) refuses is refused here, as
`VALID_INVALID_SCHEDULE` at the trigger's file:line:column. Two more refusals, for lines
Prefect takes but that cannot be what was meant: anything but five fields or an `@` macro
(Prefect's croniter reads a sixth field as seconds), and a line that never fires
(`0 0 31 2 *`: Prefect would keep the deployment with no run ever scheduled).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect._internal.schemas.validators import validate_cron_string
from prefect._vendor.croniter import croniter
from prefect.schedules import Cron, Interval
from prefect.schedules import Schedule as PrefectSchedule

from flowscript.compiler.ast import Workflow
from flowscript.compiler.diagnostics import Diagnostic, diagnostics_from_error
from flowscript.compiler.schedules import Schedule, schedule_of
from flowscript.errors import FlowScriptError

CODE = "VALID_INVALID_SCHEDULE"
_HINT = 'five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * *", or @daily, @hourly...'


def check_schedules(workflow: Workflow) -> list[Diagnostic]:
    """Every problem of the workflow's schedule (none for a manual or webhook workflow)."""
    try:
        schedule = schedule_of(workflow)
    except FlowScriptError as error:
        return diagnostics_from_error(error)
    if schedule is None or schedule.cron is None:
        return []
    problem = cron_problem(schedule.cron)
    if problem is None:
        return []
    return [Diagnostic(CODE, f"trigger.config.cron: {problem}", location=schedule.location, hint=_HINT)]


def cron_problem(cron: str) -> str | None:
    """Why Prefect (or we) refuse a cron line, or None when it is one Prefect schedules."""
    try:
        validate_cron_string(cron)
    except ValueError as error:
        return f"{cron!r} is not a cron line Prefect accepts ({error})"
    fields = cron.split()
    if not (cron.strip().startswith("@") and len(fields) == 1) and len(fields) != 5:
        return f"{cron!r} has {len(fields)} fields, not five"
    try:
        croniter(cron, datetime.now(UTC)).get_next(datetime)
    except Exception:
        return f"{cron!r} never fires"
    return None


def prefect_schedules(schedule: Schedule | None) -> list[PrefectSchedule]:
    if schedule is None:
        return []
    if schedule.cron is not None:
        return [Cron(schedule.cron, timezone=schedule.timezone)]
    assert schedule.interval is not None  # a schedule is a cron line or an interval
    return [Interval(schedule.interval, timezone=schedule.timezone)]

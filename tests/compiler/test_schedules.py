"""Schedules from the trigger: cron with timezone, interval; bad ones refused naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flowscript.compiler.diagnostics import InvalidWorkflow
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.schedules import Schedule, schedule_of

BODY = '<transform id="t" type="template"><template>x</template></transform>'


def _schedule(write_flow, trigger: str) -> Schedule | None:
    return schedule_of(load_workflow(write_flow(BODY, extra=f"trigger: {trigger}\n")).workflow)


def test_cron_with_timezone_and_intervals(write_flow):
    assert _schedule(write_flow, '{type: schedule, config: {cron: "0 6 * * 1-5", timezone: Europe/Paris}}') == \
        Schedule(cron="0 6 * * 1-5", timezone="Europe/Paris")
    assert _schedule(write_flow, "{type: schedule, config: {interval: 90}}") == Schedule(interval=timedelta(seconds=90))
    assert _schedule(write_flow, "{type: schedule, config: {interval: PT2H}}").interval == timedelta(hours=2)


def test_manual_and_webhook_have_no_schedule(write_flow):
    assert _schedule(write_flow, "manual") is None and _schedule(write_flow, "webhook") is None


@pytest.mark.parametrize(("config", "field"), [
    ('{cron: 5}', "trigger.config.cron"),  # the cron text itself: Prefect's (tests/deploy/test_schedules.py)
    ('{cron: "0 6 * * *", timezone: Mars/Olympus}', "trigger.config.timezone"),
    ("{interval: -5}", "trigger.config.interval"),
    ("{interval: soon}", "trigger.config.interval"),
    ("{}", "trigger.config.cron"),
    ('{cron: "0 6 * * *", every: 3}', "trigger.config.every"),
])
def test_an_invalid_schedule_is_a_located_validation_error_naming_the_field(write_flow, config, field):
    path = write_flow(BODY, extra=f"trigger: {{type: schedule, config: {config}}}\n")
    with pytest.raises(InvalidWorkflow) as info:
        load_workflow(path)
    text = info.value.render()
    assert f"{path}:4:" in text and "VALID_INVALID_SCHEDULE" in text and field in text

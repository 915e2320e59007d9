"""Schedules Prefect accepts, exactly: check_schedules (and so `flowscript validate`) judges a workflow's cron line with
Prefect's own validation (and refuses two kinds Prefect takes that cannot be meant), at the
trigger's file:line:column; deploy() refuses before any API call, never with an internal error."""

from __future__ import annotations

import asyncio

import pytest
from cli_support import invoke
from prefect.client.schemas.schedules import CronSchedule

from flowscript.compiler.diagnostics import InvalidWorkflow
from flowscript.compiler.loader import load_workflow
from flowscript.deployments import DeployOptions, check_schedules, deploy

BODY = '<transform id="t" type="template"><template>x</template></transform>'
NEVER, SIX = "never fires", "fields, not five"

# cron line, Prefect's verdict, ours (None: ours is Prefect's; else the reason we refuse what Prefect takes)
TABLE = [
    ("0 6 * * *", True, None),
    ("@daily", True, None),
    ("@hourly", True, None),
    ("@weekly", True, None),
    ("@midnight", True, None),
    ("*/5 * * * *", True, None),
    ("0 0 * * MON-FRI", True, None),
    ("0 6 * JAN-MAR *", True, None),
    ("0 6 * * 7", True, None),
    ("0 0 L * *", True, None),
    ("0 0 * * 1#2", True, None),
    ("0 6 * * 5L", False, None),
    ("0 6 LW * *", False, None),
    ("0 0 1W * *", False, None),
    ("@reboot", False, None),
    ("@every 5m", False, None),
    ("61 * * * *", False, None),
    ("0 24 * * *", False, None),
    ("H 0 * * *", False, None),
    ("R 0 * * *", False, None),
    ("* * * *", False, None),
    ("0 0 31 2 *", True, NEVER),
    ("0 0 30 2 *", True, NEVER),
    ("0 0 * * * *", True, SIX),
    ("0 0 * * * 30", True, SIX),
]


def _prefect_accepts(cron: str) -> bool:
    try:
        CronSchedule(cron=cron, timezone="Europe/Paris")  # what a deployment's schedule goes through
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(("cron", "prefect", "ours"), TABLE)
def test_check_schedules_and_prefect_agree(write_flow, cron, prefect, ours):
    assert _prefect_accepts(cron) is prefect
    path = write_flow(BODY, extra=f'trigger: {{type: schedule, config: {{cron: "{cron}", timezone: Europe/Paris}}}}\n')
    found = check_schedules(load_workflow(path).workflow)
    accepted = prefect and ours is None
    assert (found == []) is accepted, found
    if not accepted:
        [problem] = found
        assert problem.code == "VALID_INVALID_SCHEDULE" and "trigger.config.cron" in problem.message
        assert str(problem.location) == f"{path}:4:27"  # the trigger's config in the frontmatter
        if ours is not None:
            assert ours in problem.message
    checked = invoke(["validate", str(path)])  # `flowscript validate` says the same
    assert checked.exit_code == (0 if accepted else 2), checked.output
    if not accepted:
        assert f"{path}:4:27: VALID_INVALID_SCHEDULE" in checked.stderr


def test_a_block_trigger_is_located_at_its_config(write_flow):
    path = write_flow(BODY, extra='trigger:\n  type: schedule\n  config:\n    cron: "0 6 * * 5L"\n')
    [problem] = check_schedules(load_workflow(path).workflow)
    assert str(problem.location) == f"{path}:6:3"


def test_manual_webhook_and_interval_workflows_have_nothing_to_check(write_flow):
    for trigger in ("manual", "webhook", "{type: schedule, config: {interval: PT1H}}"):
        path = write_flow(BODY, extra=f"trigger: {trigger}\n", name="t-" + str(abs(hash(trigger))))
        assert check_schedules(load_workflow(path).workflow) == []


def test_deploy_reports_a_schedule_prefect_refuses_and_deploys_nothing(write_flow, tmp_path):
    write_flow(BODY, extra='trigger: {type: schedule, config: {cron: "0 6 LW * *"}}\n', name="bad")
    write_flow(BODY, name="good")
    with pytest.raises(InvalidWorkflow) as info:  # before any API call: no server here
        asyncio.run(deploy(tmp_path, DeployOptions()))
    assert [d.code for d in info.value.diagnostics] == ["VALID_INVALID_SCHEDULE"]
    assert f"{tmp_path / 'bad.flow.md'}:4:27: VALID_INVALID_SCHEDULE" in info.value.render()

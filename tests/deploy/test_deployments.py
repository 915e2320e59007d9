"""The examples deployed on a real Prefect server and served by `flowscript serve`: the
deployments and their forms, runs started through the API, approvals, schedules."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from conftest import FLOWSCRIPT, REPO
from prefect_support import recorded_task_runs
from workers import logs_of, wait_for, wait_for_input

EXAMPLES = sorted(p.name.removesuffix(".flow.md") for p in (REPO / "flows" / "examples").glob("*.flow.md"))


def _of_run(flow_run_id: UUID) -> dict:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    return {"flow_run_filter": FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))}


async def _deployment(client, name: str):
    return await client.read_deployment_by_name(f"{name}/{name}")


async def test_every_example_is_a_deployment_whose_form_is_its_config(served, client):
    for name in EXAMPLES:
        deployment = await _deployment(client, name)
        assert deployment.entrypoint == f"flowscript.flows.workflow_flows.{name}"
        assert "flowscript" in deployment.tags and "input" in deployment.parameter_openapi_schema["properties"]
    form = (await _deployment(client, "order-report")).parameter_openapi_schema
    assert form["properties"]["min_total"]["type"] == "number" and form["properties"]["min_total"]["default"] == 10
    assert form["properties"]["min_total"]["description"] == "Smallest order total to report"
    assert form["properties"]["title"] == {**form["properties"]["title"], "type": "string", "default": "Paid orders"}


async def test_deploying_again_updates_and_never_duplicates(served, client):
    before = {name: (await _deployment(client, name)).id for name in EXAMPLES}
    again = served.cli("deploy", ".")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {name: (await _deployment(client, name)).id for name in EXAMPLES} == before
    assert len([d for d in await client.read_deployments() if "flowscript" in d.tags]) == len(EXAMPLES)


async def test_a_run_started_through_the_api_runs_with_its_parameters(served, client, tmp_path):
    deployment = await _deployment(client, "order-report")
    flow_run = await client.create_flow_run_from_deployment(deployment.id, parameters={"min_total": 50})
    flow_run = await wait_for(client, flow_run.id)
    assert flow_run.state.is_completed(), flow_run.state
    nodes = {"orders", "paid", "totals", "report", "save-totals", "save-report"}
    tasks = {t.name: t for t in await recorded_task_runs(client, flow_run.id, names=nodes)}
    assert nodes <= set(tasks)
    assert "source:file" in tasks["orders"].tags
    artifacts = await client.read_artifacts(**_of_run(flow_run.id))
    assert [a.key for a in artifacts] == ["flowscript-log-order-report"] and "## Execution Log" in artifacts[0].data
    reference = tmp_path / "examples"
    shutil.copytree(REPO / "flows" / "examples", reference)
    local = subprocess.run([str(FLOWSCRIPT), "run", "--local", "--no-log", "order-report.flow.md", "-c",
                            "min_total=50"], cwd=reference, capture_output=True, text=True, timeout=60)
    assert local.returncode == 0, local.stderr
    for output in ("out/report.txt", "out/totals.json"):
        assert (served.folder / output).read_text() == (reference / output).read_text()


@pytest.mark.parametrize(("action", "outcome"), [("approve", "COMPLETED"), ("reject", "CANCELLED")])
async def test_a_checkpoint_waits_for_an_approval_given_through_the_api(served, client, action, outcome):
    deployment = await _deployment(client, "approval-gate")
    flow_run = await client.create_flow_run_from_deployment(deployment.id)
    paused = await wait_for(client, flow_run.id, lambda s: s.is_paused())
    keyset = paused.state.state_details.run_input_keyset
    assert keyset and "schema" in keyset  # the UI draws the approval form from this schema
    await wait_for_input(client, flow_run.id, keyset["schema"])
    await client.resume_flow_run(flow_run.id, run_input={"action": action, "comment": f"{action} by test"})
    final = await wait_for(client, flow_run.id)
    assert final.state.type.value == outcome
    for _ in range(40):  # logs reach the API a moment after they are written
        logs = await logs_of(client, flow_run.id)
        if any("checkpoint review:" in m for m in logs):
            break
        await asyncio.sleep(0.25)
    assert any(f"checkpoint review: {action} by Prefect UI: {action} by test" in m for m in logs), logs
    if action == "approve":
        assert (served.folder / "out" / "decision.txt").read_text() == "approve: 4 orders ready (timed out: false)"


async def test_a_scheduled_workflow_gets_scheduled_runs(served, client):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    deployment = await _deployment(client, "nightly-digest")
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *" and schedule.schedule.timezone == "Europe/Paris"
    for _ in range(120):
        runs = await client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])))
        if runs:
            break
        await asyncio.sleep(0.5)
    assert runs and all(r.state.is_scheduled() for r in runs)
    assert {r.expected_start_time.astimezone(ZoneInfo("Europe/Paris")).hour for r in runs} == {2}
    manual = await _deployment(client, "order-report")
    assert manual.schedules == []


async def test_deploying_to_a_work_pool_and_refusing_a_bad_schedule(served, client, tmp_path):
    from prefect.client.schemas.actions import WorkPoolCreate

    await client.create_work_pool(WorkPoolCreate(name="flowscript-pool", type="process"))
    folder = tmp_path / "pool"
    folder.mkdir()
    shutil.copy(REPO / "flows" / "examples" / "order-report.flow.md", folder / "pooled.flow.md")
    text = (folder / "pooled.flow.md").read_text().replace("name: order-report", "name: pooled-report")
    (folder / "pooled.flow.md").write_text(text)
    env_run = subprocess.run([str(FLOWSCRIPT), "deploy", str(folder), "--work-pool", "flowscript-pool"],
                             env=served.env(), capture_output=True, text=True, timeout=120)
    assert env_run.returncode == 0, env_run.stdout + env_run.stderr
    deployment = await _deployment(client, "pooled-report")
    assert deployment.work_pool_name == "flowscript-pool"
    assert "FLOWSCRIPT_WORKFLOWS_DIR" not in deployment.job_variables.get("env", {})  # no path of this machine
    [step] = deployment.pull_steps
    assert step["flowscript.deployments.steps.unpack_workflow"]["workflow"] == "pooled-report"

    (folder / "bad.flow.md").write_text(text.replace("name: pooled-report", "name: bad-schedule").replace(
        "trigger: manual", 'trigger: {type: schedule, config: {cron: "99 * * * *"}}'))
    refused = subprocess.run([str(FLOWSCRIPT), "deploy", str(folder)], env=served.env(), capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2
    assert f"{folder / 'bad.flow.md'}:" in refused.stderr and "trigger.config.cron" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "bad-schedule" not in {d.name for d in await client.read_deployments()}

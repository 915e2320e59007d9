"""Every workflow of a folder as a Prefect deployment (`flowscript deploy`, `flowscript serve`).

One deployment per workflow, named after it, on the flow named after it: re-deploying
updates it (Prefect upserts by flow and deployment name), never duplicates it. Its
parameters are the workflow's config fields; its schedule comes from the trigger (cron
with timezone, or interval; manual and webhook workflows have none). Every workflow is
checked first: one invalid file and nothing is deployed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval
from prefect.types.entrypoint import EntrypointType

from flowscript.compiler.ast import WorkflowMeta
from flowscript.compiler.diagnostics import Diagnostic, InvalidWorkflow, diagnostics_from_error
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.schedules import Schedule, schedule_of
from flowscript.errors import FlowScriptError, ValidationError
from flowscript.flows.workflow_flows import WORKFLOWS_DIR_ENV, flow_for, workflow_files


@dataclass(frozen=True)
class WorkflowDeployment:
    path: Path
    name: str
    schedule: Schedule | None
    deployment: RunnerDeployment


def workflow_deployments(folder: str | os.PathLike[str], *, work_pool: str | None = None) -> list[WorkflowDeployment]:
    """Raises InvalidWorkflow naming every problem of every file when any workflow is invalid."""
    root = Path(folder).resolve()
    paths = workflow_files(root)
    if not paths:
        raise ValidationError(f"no .flow.md workflows in {root}", code="VALID_NO_WORKFLOWS",
                              hint="point at the folder that holds your workflows")
    problems: list[Diagnostic] = []
    loaded = []
    for path in paths:
        try:
            workflow = load_workflow(path).workflow
            loaded.append((path, workflow, schedule_of(workflow)))
        except InvalidWorkflow as e:
            problems += [d for d in e.diagnostics if d.severity == "error"]
        except FlowScriptError as e:
            problems += diagnostics_from_error(e)
    if problems:
        raise InvalidWorkflow(problems)
    names = [w.meta.name for _, w, _ in loaded]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(f"two workflows are named {duplicates[0]!r} in {root}", code="VALID_DUPLICATE_WORKFLOW",
                              hint="workflow names must be unique: each becomes one deployment")
    return [WorkflowDeployment(path, workflow.meta.name, schedule,
                               _deployment(path, root, workflow.meta, schedule, work_pool))
            for path, workflow, schedule in loaded]


def _deployment(path: Path, root: Path, meta: WorkflowMeta, schedule: Schedule | None,
                work_pool: str | None) -> RunnerDeployment:
    return RunnerDeployment.from_flow(
        flow_for(path),
        name=meta.name,
        description=meta.description,
        version=meta.version,
        tags=["flowscript", f"trigger:{meta.trigger.type}"],
        schedules=_prefect_schedules(schedule),
        entrypoint_type=EntrypointType.MODULE_PATH,
        work_pool_name=work_pool,
        job_variables={"env": {WORKFLOWS_DIR_ENV: str(root)}} if work_pool else None,
    )


def _prefect_schedules(schedule: Schedule | None) -> list:
    if schedule is None:
        return []
    if schedule.cron is not None:
        return [Cron(schedule.cron, timezone=schedule.timezone)]
    assert schedule.interval is not None  # a schedule is a cron line or an interval
    return [Interval(schedule.interval, timezone=schedule.timezone)]


async def deploy(folder: str | os.PathLike[str], *, work_pool: str | None = None) -> dict[str, UUID]:
    """Creates or updates one deployment per workflow; returns their ids by workflow name."""
    found = workflow_deployments(folder, work_pool=work_pool)
    return {item.name: await item.deployment.aapply(work_pool_name=work_pool) for item in found}


async def serve(folder: str | os.PathLike[str], *, limit: int | None = None) -> None:
    """Serves every workflow's deployment (schedules included) from this process until stopped."""
    from prefect.flows import aserve

    found = workflow_deployments(folder)
    os.environ[WORKFLOWS_DIR_ENV] = str(Path(folder).resolve())  # the runs' processes load their flow from here
    await aserve(*(item.deployment for item in found), limit=limit, print_starting_message=False)

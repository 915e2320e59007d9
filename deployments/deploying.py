"""Every workflow of a folder as a Prefect deployment (`flowscript deploy`, `flowscript serve`,
`flowscript deploy --prefect-yaml`; docs/deploying.md).

One deployment per workflow, named after it, on the flow named after it: re-deploying
updates it (Prefect upserts by flow and deployment name), never duplicates it. Its
parameters are the workflow's config fields (defaults from `--param`); its schedule comes
from the trigger (cron with timezone, or interval, judged by Prefect's own code); a webhook
workflow gets a deployment trigger on the event `flowscript.workflow.<name>`, whose payload
becomes the run's `input`. On a work pool, a deployment carries what its runs need: the
workflow's files (inside it, or a git source Prefect clones), and in its job variables the
task runner and the result storage; no path of the deploying machine. Every workflow is
checked first: one invalid file and nothing is deployed.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.runner.storage import GitRepository
from prefect.types.entrypoint import EntrypointType

from flowscript.compiler.ast import Workflow
from flowscript.compiler.diagnostics import Diagnostic, InvalidWorkflow, diagnostics_from_error
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import values_from_text
from flowscript.compiler.schedules import Schedule, schedule_of
from flowscript.deployments.options import DeployOptions
from flowscript.deployments.schedules import check_schedules, prefect_schedules
from flowscript.deployments.steps import pack_workflow
from flowscript.errors import FlowScriptError, MultipleErrors, SourceLocation, ValidationError
from flowscript.flows.workflow_flows import WORKFLOWS_DIR_ENV, flow_for, workflow_files

STEPS = "flowscript.deployments.steps"
EVENT_PREFIX = "flowscript.workflow."


class DeployError(FlowScriptError):
    default_code = "DEPLOY_PREFECT_ERROR"


@dataclass(frozen=True)
class WorkflowDeployment:
    path: Path
    name: str
    schedule: Schedule | None
    deployment: RunnerDeployment
    id: UUID | None = None  # once applied


def event_name(workflow_name: str) -> str:
    """The event that starts a webhook workflow's deployment."""
    return EVENT_PREFIX + workflow_name


# ---------------------------------------------------------------- entry points
async def deploy(folder: str | os.PathLike[str], options: DeployOptions | None = None) -> list[WorkflowDeployment]:
    """Creates or updates one deployment per workflow of the folder; raises InvalidWorkflow
    (every problem of every file) or another FlowScriptError, never deploying part of it."""
    found = workflow_deployments(folder, options or DeployOptions())
    applied = []
    for item in found:
        try:
            deployment_id = await item.deployment.aapply()
        except Exception as error:
            raise DeployError(f"Prefect refused the deployment {item.name}/{item.name}: {error}",
                              hint="check PREFECT_API_URL, and that the work pool exists "
                                   "(prefect work-pool create NAME --type process)") from None
        applied.append(replace(item, id=deployment_id))
    return applied


async def serve(folder: str | os.PathLike[str], options: DeployOptions | None = None,
                limit: int | None = None) -> None:
    """Serves every workflow's deployment (schedules, triggers) from this process until stopped;
    its runs work in the folder itself. The options' environment (task runner, result storage,
    job variable `env`) is this process's, so its runs'."""
    from prefect.flows import aserve

    options = options or DeployOptions()
    if options.pool or options.source or set(options.job_variables) - {"env"}:
        raise ValidationError("flowscript serve runs the folder's workflows itself: no work pool, source or job "
                              "variables other than env", code="VALID_INVALID_FIELD_TYPE",
                              hint="use flowscript deploy --pool for a work pool's workers")
    found = workflow_deployments(folder, replace(options, job_variables={}, result_storage=None,
                                                 task_runner=type(options.task_runner)()))
    os.environ.update({**options.job_variables.get("env", {}), **options.env()})
    os.environ[WORKFLOWS_DIR_ENV] = str(Path(folder).resolve())  # the runs' processes load their flow from here
    await aserve(*(item.deployment for item in found), limit=limit, print_starting_message=False)


def prefect_yaml(folder: str | os.PathLike[str], options: DeployOptions | None = None) -> str:
    """A prefect.yaml for the folder: `prefect --no-prompt deploy --all`, run in the folder,
    creates the deployments `deploy(folder, options)` creates (a build step packs each
    workflow's files when there is no source)."""
    options = options or DeployOptions()
    if not options.pool:
        raise ValidationError("a prefect.yaml deploys to a work pool", code="VALID_MISSING_REQUIRED_FIELD",
                              hint="add --pool NAME")
    root = Path(folder).resolve()
    items = workflow_deployments(root, options)
    document = {
        "name": root.name,
        "prefect-version": _prefect_version(),
        "build": None,
        "push": None,
        "pull": None,
        "deployments": [_yaml_deployment(item, root, options) for item in items],
    }
    header = ("# Written by `flowscript deploy --prefect-yaml`: `prefect --no-prompt deploy --all` in this folder\n"
              "# creates the same deployments as `flowscript deploy` (docs/deploying.md#prefectyaml).\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------- the deployments
def workflow_deployments(folder: str | os.PathLike[str], options: DeployOptions) -> list[WorkflowDeployment]:
    """Raises InvalidWorkflow naming every problem of every file when any workflow is invalid."""
    root = Path(folder).resolve()
    loaded = _load(root)
    _check_options(options)
    defaults = _parameter_defaults([w for _, w in loaded], options.params)
    return [WorkflowDeployment(path, workflow.meta.name, schedule_of(workflow),
                               _refused_as_invalid(path, workflow, defaults[workflow.meta.name], root, options))
            for path, workflow in loaded]


def _refused_as_invalid(path: Path, workflow: Workflow, parameters: dict[str, Any], root: Path,
                        options: DeployOptions) -> RunnerDeployment:
    """The deployment; what Prefect's own models refuse (a schedule, a name, a tag) is the
    workflow's problem, reported at the file, never an internal error."""
    try:
        return _deployment(path, root, workflow, parameters, options)
    except ValueError as error:  # pydantic's ValidationError is one
        code = "VALID_INVALID_SCHEDULE" if "schedule" in str(error).lower() else "VALID_INVALID_FIELD_TYPE"
        raise ValidationError(f"Prefect refuses the deployment of {workflow.meta.name}: {error}", code=code,
                              location=SourceLocation(1, 1, str(path))) from None


def _load(root: Path) -> list[tuple[Path, Workflow]]:
    paths = workflow_files(root)
    if not paths:
        raise ValidationError(f"no .flow.md workflows in {root}", code="VALID_NO_WORKFLOWS",
                              hint="point at the folder that holds your workflows")
    problems: list[Diagnostic] = []
    loaded = []
    for path in paths:
        try:
            workflow = load_workflow(path).workflow
        except InvalidWorkflow as e:
            problems += [d for d in e.diagnostics if d.severity == "error"]
            continue
        except FlowScriptError as e:
            problems += diagnostics_from_error(e)
            continue
        schedule_problems = check_schedules(workflow)
        problems += schedule_problems
        if not schedule_problems:
            loaded.append((path, workflow))
    if problems:
        raise InvalidWorkflow(problems)
    names = [w.meta.name for _, w in loaded]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(f"two workflows are named {duplicates[0]!r} in {root}", code="VALID_DUPLICATE_WORKFLOW",
                              hint="workflow names must be unique: each becomes one deployment")
    return loaded


def _check_options(options: DeployOptions) -> None:
    if options.pool:
        return
    needs_pool = [flag for flag, given in [("--job-variable", bool(options.job_variables)),
                                           ("--source", options.source is not None),
                                           ("--result-storage", options.result_storage is not None),
                                           ("--task-runner", bool(options.task_runner.env()))] if given]
    if needs_pool:
        raise ValidationError(f"{', '.join(needs_pool)} goes with --pool: without a work pool, Prefect keeps "
                              "no job variables or pull steps", code="VALID_MISSING_REQUIRED_FIELD",
                              hint="add --pool NAME, or give these to `flowscript serve`")


def _parameter_defaults(workflows: list[Workflow], params: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each workflow's `--param` values, typed; a key no workflow declares is refused."""
    unknown = [key for key in params if not any(key in w.meta.config for w in workflows)]
    fields = ", ".join(sorted({f for w in workflows for f in w.meta.config})) or "(none)"
    errors: list[FlowScriptError] = [
        ValidationError(f"--param {key}: no workflow of the folder has a config field '{key}'",
                        code="VALID_INVALID_FIELD_TYPE", hint=f"fields: {fields}")
        for key in unknown]
    found: dict[str, dict[str, Any]] = {}
    for workflow in workflows:
        given = {key: value for key, value in params.items() if key in workflow.meta.config}
        try:
            found[workflow.meta.name] = values_from_text(workflow.meta, given)
        except MultipleErrors as e:
            errors += e.errors
        except FlowScriptError as e:
            errors.append(e)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MultipleErrors(errors)
    return found


def _deployment(path: Path, root: Path, workflow: Workflow, parameters: dict[str, Any],
                options: DeployOptions) -> RunnerDeployment:
    meta = workflow.meta
    deployment = RunnerDeployment.from_flow(
        flow_for(path),
        name=meta.name,
        description=meta.description,
        version=meta.version,
        tags=_tags(workflow, options),
        schedules=prefect_schedules(schedule_of(workflow)),
        triggers=_triggers(workflow),
        parameters=parameters,
        concurrency_limit=options.concurrency_limit,
        entrypoint_type=EntrypointType.MODULE_PATH,
        work_pool_name=options.pool,
        job_variables=options.pool_job_variables() if options.pool else None,
    )
    if options.pool:
        deployment.storage = PullSteps(pull_steps(path, root, meta.name, options))
    return deployment


def _tags(workflow: Workflow, options: DeployOptions) -> list[str]:
    return list(dict.fromkeys(["flowscript", f"trigger:{workflow.meta.trigger.type}", *options.tags]))


def _triggers(workflow: Workflow) -> list[Any]:
    if workflow.meta.trigger.type != "webhook":
        return []
    name = workflow.meta.name
    return [DeploymentEventTrigger(name=f"flowscript {name} webhook", expect={event_name(name)},
                                   parameters={"input": "{{ event.payload }}"})]


def pull_steps(path: Path, root: Path, workflow: str, options: DeployOptions) -> list[dict[str, Any]]:
    """What Prefect runs before loading the flow on a worker: the run's folder filled with the
    workflow's files, from the deployment itself or from the git source."""
    if options.source is None:
        archive = pack_workflow(path, options.max_inline_bytes)
        return [{f"{STEPS}.unpack_workflow": {"workflow": workflow, "archive": archive}}]
    source = options.source
    clone = GitRepository(url=source.url, branch=source.branch, pull_interval=None).to_pull_step()
    clone["prefect.deployments.steps.git_clone"] = {"id": "clone", **clone["prefect.deployments.steps.git_clone"]}
    if not source.branch:
        clone["prefect.deployments.steps.git_clone"].pop("branch", None)
    directory = "{{ clone.directory }}" + (f"/{source.subfolder}" if source.subfolder else "")
    return [clone,
            {"prefect.deployments.steps.set_working_directory": {"directory": directory}},
            {f"{STEPS}.copy_workflow": {"workflow": workflow, "path": path.relative_to(root).as_posix()}}]


class PullSteps:
    """Prefect's RunnerStorage for a deployment whose code is the installed package: nothing
    to pull where it is deployed, only the pull steps it hands the workers."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self._steps = steps
        self._base = Path.cwd()

    def set_base_path(self, path: Path) -> None:
        self._base = path

    @property
    def pull_interval(self) -> int | None:
        return None

    @property
    def destination(self) -> Path:
        return self._base

    async def pull_code(self) -> None:
        return None

    def to_pull_step(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PullSteps) and other._steps == self._steps

    __hash__ = None  # type: ignore[assignment]


# ---------------------------------------------------------------- prefect.yaml
def _yaml_deployment(item: WorkflowDeployment, root: Path, options: DeployOptions) -> dict[str, Any]:
    deployment = item.deployment
    entry: dict[str, Any] = {
        "name": item.name,
        "entrypoint": deployment.entrypoint,
        "description": deployment.description,
        "version": deployment.version,
        "tags": list(deployment.tags),
        "parameters": deployment.parameters,
        "enforce_parameter_schema": deployment.enforce_parameter_schema,
        "concurrency_limit": deployment.concurrency_limit,
        "work_pool": {"name": options.pool, "job_variables": options.pool_job_variables()},
        "schedules": _yaml_schedules(item.schedule),
        "triggers": [{"type": "event", "enabled": True, "name": t.name, "expect": sorted(t.expect),
                      "parameters": t.parameters} for t in deployment.triggers
                     if isinstance(t, DeploymentEventTrigger)],  # the only kind a workflow makes
    }
    if options.source is None:
        entry["build"] = [{f"{STEPS}.pack_step": {"id": "pack", "workflow_file": item.path.relative_to(root).as_posix(),
                                                  "limit": options.max_inline_bytes}}]
        entry["pull"] = [{f"{STEPS}.unpack_workflow": {"workflow": item.name, "archive": "{{ pack.archive }}"}}]
    else:
        assert isinstance(deployment.storage, PullSteps), "a deployment to a pool carries its pull steps"
        entry["pull"] = deployment.storage.to_pull_step()
    return entry


def _yaml_schedules(schedule: Schedule | None) -> list[dict[str, Any]]:
    if schedule is None:
        return []
    found: dict[str, Any] = ({"cron": schedule.cron} if schedule.cron is not None
                             else {"interval": schedule.interval.total_seconds() if schedule.interval else None})
    if schedule.timezone:
        found["timezone"] = schedule.timezone
    return [{**found, "active": True}]


def _prefect_version() -> str:
    import prefect

    return str(prefect.__version__)


__all__ = ["DeployError", "WorkflowDeployment", "deploy", "event_name", "prefect_yaml", "serve",
           "workflow_deployments"]

"""Plan -> Prefect flow: flow name = workflow name, parameters = the config fields plus
`input`, and a body that runs the engine with the Prefect backend.

One flow run is one workflow run; its id is the run id. When Prefect retries a failed
flow run, or reruns a suspended one after its answer, the body finds that run's state
file and resumes it, so nodes that succeeded are not run again; on another machine (no
state file there) their persisted task results answer for them: in the result storage
block FLOWSCRIPT_RESULT_STORAGE names (a deployment's `--result-storage`), else Prefect's
default storage.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from prefect import Flow
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger
from prefect.states import Cancelled, Failed

from flowscript.compiler.planner import Plan
from flowscript.compiler.run_config import resolve_config
from flowscript.compiler.sites import used_secrets
from flowscript.errors import FlowScriptError, ValidationError
from flowscript.nodes.base import walk
from flowscript.prefect_backend.artifacts import publish_log
from flowscript.prefect_backend.backend import DEFAULT_CHUNK_THRESHOLD, PrefectBackend
from flowscript.prefect_backend.concurrency import LimitNames, read_limits, shared_limit
from flowscript.prefect_backend.parameters import INPUT_PARAMETER, flow_docstring, flow_signature
from flowscript.prefect_backend.secrets import from_secret_blocks
from flowscript.prefect_backend.tag_limits import TagLimits
from flowscript.prefect_backend.task_runners import TaskRunnerChoice, choice_from
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.persistence import DEFAULT_STATE_DIR, load_state, state_path
from flowscript.runtime.secrets import Redactor, read_secrets
from flowscript.runtime.state import RunState
from flowscript.signals import RunFailed


@dataclass
class Launch:
    """What the caller of a flow run adds (the CLI, a test): engine options, a run to resume,
    and, once the run ends, its state and failure. Deployment runs use the defaults.

    A caller that outlives the flow run (launcher.run_through_prefect) may read the API's
    concurrency limits while Prefect creates the flow run (`limits`) and take the log
    artifact's request over (`log_after_flow`): the artifact is then published while Prefect
    records the flow run's end, not before, and the caller awaits `publishing`."""

    options: RunOptions = field(default_factory=RunOptions)
    resume: RunState | None = None
    interactive: bool | None = None
    approvals: Literal["terminal", "prefect"] = "prefect"  # the CLI asks on its terminal instead
    persist_results: bool = True
    result_storage: str | None = field(default_factory=lambda: os.environ.get(RESULT_STORAGE_ENV) or None)
    chunk_threshold: int = field(default_factory=lambda: chunk_threshold_from(os.environ))
    limits: asyncio.Future[LimitNames] | None = None
    log_after_flow: bool = False
    publishing: asyncio.Future[None] | None = None
    state: RunState | None = None
    failure: RunFailed | None = None
    backend: PrefectBackend | None = None  # the run's, once it started


def chunk_threshold_from(env: Mapping[str, str]) -> int:
    """FLOWSCRIPT_FOREACH_CHUNK: foreach iterations per chunk task run above that many items."""
    text = env.get("FLOWSCRIPT_FOREACH_CHUNK", "").strip()
    if not text:
        return DEFAULT_CHUNK_THRESHOLD
    if not text.isdigit() or int(text) < 1:
        raise ValidationError(f"FLOWSCRIPT_FOREACH_CHUNK must be a whole number >= 1, got {text!r}",
                              code="VALID_INVALID_FIELD_TYPE", hint="unset it for the default of 100")
    return int(text)


RESULT_STORAGE_ENV = "FLOWSCRIPT_RESULT_STORAGE"  # a storage block's slug, e.g. local-file-system/shared


async def result_storage_block(slug: str | None) -> Any:
    """The storage block a slug names (None: Prefect's default storage). Raises ValidationError."""
    if not slug:
        return None
    from prefect.results import aresolve_result_storage

    try:
        return await aresolve_result_storage(slug)
    except Exception as error:
        raise ValidationError(f"result storage block {slug!r} cannot be loaded: {error}",
                              code="RUN_PREFECT_ERROR",
                              hint="create it first (e.g. `prefect block create local-file-system`) and name it "
                                   "as TYPE/NAME, e.g. local-file-system/shared") from None


LAUNCH: contextvars.ContextVar[Launch | None] = contextvars.ContextVar("flowscript_launch", default=None)


def build_flow(plan: Plan, runner: TaskRunnerChoice | None = None) -> Flow:
    """The workflow's flow; its task runner carries the node executions (`runner`: the one
    the run's environment names, by default)."""
    meta = plan.workflow.meta

    async def run_workflow(**parameters: Any) -> Any:
        return await run_plan(plan, parameters)  # only module-level names: the flow pickles to Dask workers

    run_workflow.__signature__ = flow_signature(meta)  # type: ignore[attr-defined]
    run_workflow.__doc__ = flow_docstring(meta)
    run_workflow.__name__ = run_workflow.__qualname__ = "run_workflow"
    return Flow(run_workflow, name=meta.name, version=meta.version, description=meta.description,
                validate_parameters=False, persist_result=False, log_prints=False,
                task_runner=(runner or choice_from()).task_runner())


async def run_plan(plan: Plan, parameters: dict[str, Any]) -> Any:
    """The flow's body: the launch of this process's caller, or a deployed run's."""
    return await _run(plan, parameters, LAUNCH.get() or deployed_launch(plan))


async def _run(plan: Plan, parameters: dict[str, Any], launch: Launch) -> Any:
    flow_run_id = str(FlowRunContext.get().flow_run.id)  # type: ignore[union-attr]
    meta = plan.workflow.meta
    run_input = parameters.pop(INPUT_PARAMETER, None)
    try:
        config = resolve_config(plan.workflow, {k: v for k, v in parameters.items() if v is not None})
        blocks = await from_secret_blocks(meta.secrets, launch.options.env)
        secrets = read_secrets(meta.secrets, launch.options.env, blocks,
                               required=used_secrets(plan.workflow) & set(meta.secrets), workflow=plan.workflow)
        storage = await result_storage_block(launch.result_storage) if launch.persist_results else None
    except FlowScriptError as e:
        get_run_logger().error(e.render())
        return Failed(message=e.render())
    state = launch.resume
    resuming = state is not None
    run_id = state.run_id if state is not None else flow_run_id
    limits = await (launch.limits or read_limits())
    backend = PrefectBackend(meta.name, run_id, list(secrets.values()), persist_results=launch.persist_results,
                             result_storage=storage,
                             chunk_threshold=launch.chunk_threshold, interactive=launch.interactive,
                             approvals=launch.approvals, shared_limit=shared_limit(limits, meta.name),
                             tag_limits=TagLimits(read_limits, limits),
                             kinds=frozenset({node.kind_name for node in plan.nodes.values()} | {"foreach"}),
                             unkept=unkept_results(plan))
    launch.backend = backend
    engine = Engine(plan, backend, launch.options)
    if state is None:
        state = _retried_run(launch.options, meta.name, run_id)
        resuming = state is not None
    if state is None:
        state = engine.new_state(config, run_id=run_id, input=run_input)
    launch.state = state
    try:
        await (engine.resume(state, secrets) if resuming else engine.run(state, secrets))
    except RunFailed as failure:
        launch.failure = failure
        await _publish(launch, state, engine.redactor)
        message = engine.redactor.text(failure.message)
        return Cancelled(message=message) if failure.cancelled else Failed(message=message)
    await _publish(launch, state, engine.redactor)  # it has learned the run's secret-derived values
    return {"runId": state.run_id, "status": state.status}


def unkept_results(plan: Plan) -> frozenset[str]:
    """The nodes whose task runs' results Prefect must not keep: those that hold, read or make a
    secret-derived value, and the control nodes around them (their outputs hold their bodies')."""
    touching = plan.touches_secret_derived | plan.secret_derived
    return frozenset(node_id for node_id, node in plan.nodes.items()
                     if any(n.id in touching for n in walk([node])))


async def _publish(launch: Launch, state: RunState, redactor: Redactor) -> None:
    """The log artifact, now or, when the caller takes it over, alongside the flow run's end."""
    if launch.log_after_flow:
        launch.publishing = asyncio.ensure_future(publish_log(state, redactor))
    else:
        await publish_log(state, redactor)


def deployed_launch(plan: Plan) -> Launch:
    """A run started by Prefect (a deployment, a schedule, the UI): it works in the workflow
    file's folder (relative paths in the workflow are relative to it) and keeps its state
    files there, unless FLOWSCRIPT_STATE_DIR says where. On a worker, that folder is the run's
    own (`$FLOWSCRIPT_HOME/runs/<workflow>/<flow-run-id>`, filled by the deployment's pull
    step); under `flowscript serve`, the served folder."""
    folder = Path(plan.workflow.path).resolve().parent if plan.workflow.path else Path.cwd()
    state_dir = os.environ.get("FLOWSCRIPT_STATE_DIR") or folder / DEFAULT_STATE_DIR
    return Launch(options=RunOptions(workdir=folder, state_dir=Path(state_dir)))


def _retried_run(options: RunOptions, workflow_id: str, run_id: str) -> RunState | None:
    """The state of this very flow run when Prefect retries it (None on a first attempt)."""
    if options.state_dir is None:
        return None
    path = state_path(options.state_dir, workflow_id, run_id)
    if not path.exists():
        return None
    state = load_state(path)
    return None if state.status == "completed" else state

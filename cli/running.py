"""Commands that run workflows: run and resume."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from flowscript.cli.app import EXIT_FAILED, EXIT_OK, app, reports_errors
from flowscript.cli.inspect import FORMAT, Format, render_plan
from flowscript.compiler.run_config import parse_assignments
from flowscript.errors import ValidationError
from flowscript.runtime.persistence import DEFAULT_STATE_DIR, state_path
from flowscript.runtime.retry import RetrySettings
from flowscript.runtime.secrets import Redactor
from flowscript.runtime.state import RunState
from flowscript.signals import RunFailed

CONFIG = typer.Option([], "-c", "--config", help="key=value (repeatable; JSON values accepted).",
                      show_default=False)
MAX_CONCURRENCY = typer.Option(10, "--max-concurrency", min=1, help="Nodes of a wave running at once.")
TIMEOUT = typer.Option(None, "--timeout", min=0.0, help="Stop the run after this many seconds.")
RETRIES = typer.Option(None, "--retries", min=0, help="Default retry count for nodes without <on-error>.")
NO_RETRY = typer.Option(False, "--no-retry", help="Run every node once, ignoring retry policies.")
STATE_DIR = typer.Option(Path(DEFAULT_STATE_DIR), "--state-dir", help="Where state files go.")
NO_LOG = typer.Option(False, "--no-log", help="Do not write the execution log into the .flow.md file.")
LOCAL = typer.Option(False, "--local", help="Run with the Prefect-less engine (no Prefect import, no server).")
TASK_RUNNER = typer.Option("thread", "--task-runner", envvar="FLOWSCRIPT_TASK_RUNNER",
                           help="Prefect task runner for node executions: thread or dask.")
DASK_ADDRESS = typer.Option(None, "--dask-address", envvar="FLOWSCRIPT_DASK_ADDRESS",
                            help="With --task-runner dask: the scheduler, e.g. tcp://host:8786 (none: a temporary "
                            "LocalCluster of worker processes).")


def _options(max_concurrency: int, timeout: float | None, retries: int | None, no_retry: bool,
             state_dir: Path, no_log: bool, workdir: Path) -> Any:
    from flowscript.cli.progress import progress_for
    from flowscript.runtime.engine import RunOptions

    return RunOptions(
        max_concurrency=max_concurrency,
        timeout_s=timeout or None,
        default_retry=RetrySettings(max_retries=retries) if retries is not None else None,
        retries_enabled=not no_retry,
        state_dir=state_dir,
        write_log=not no_log,
        workdir=workdir,
        env=dict(os.environ),
        events=progress_for(),
    )


def _parse_input(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValidationError(f"--input is not valid JSON: {e}", code="VALID_INVALID_FIELD_TYPE",
                              hint="quote it for the shell: --input '{\"a\": 1}'") from None


@app.command()
@reports_errors
def run(
    file: Path = typer.Argument(..., help="the .flow.md workflow", show_default=False),
    config: list[str] = CONFIG,
    input: str | None = typer.Option(None, "--input", help="The run's input as JSON."),
    max_concurrency: int = MAX_CONCURRENCY,
    timeout: float | None = TIMEOUT,
    retries: int | None = RETRIES,
    no_retry: bool = NO_RETRY,
    state_dir: Path = STATE_DIR,
    no_log: bool = NO_LOG,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and print the plan; run nothing."),
    format: Format = FORMAT,
    run_id: str | None = typer.Option(None, "--run-id", help="Use this run id instead of a new UUID."),
    local: bool = LOCAL,
    task_runner: str = TASK_RUNNER,
    dask_address: str | None = DASK_ADDRESS,
) -> None:
    """Run a workflow. Exit 0 completed, 1 failed or cancelled, 2 invalid."""
    from flowscript.runtime.launch import prepare_run

    prepared = prepare_run(file, parse_assignments(config), env=os.environ, require_secrets=local)
    for d in prepared.loaded.diagnostics:
        print(d.render(), file=sys.stderr)
    if dry_run:
        typer.echo(json.dumps(prepared.loaded.plan.to_json(), indent=2) if format is Format.json
                   else render_plan(prepared.loaded.plan))
        return
    options = _options(max_concurrency, timeout, retries, no_retry, state_dir, no_log, Path.cwd())
    redactor = Redactor(prepared.secrets.values())
    plan, run_input = prepared.loaded.plan, _parse_input(input)
    if local:
        state, failure = _run_locally(plan, prepared, options, run_id=run_id, run_input=run_input)
    else:
        if run_id is not None:
            raise ValidationError("--run-id works only with --local", code="VALID_INVALID_FIELD_TYPE",
                                  hint="a run through Prefect takes its flow run's id")
        state, failure = _run_on_prefect(plan, prepared.config, run_input, options,
                                         runner=_runner(task_runner, dask_address))
    _finish(state, failure, format, options, redactor)


def _run_locally(plan: Any, prepared: Any, options: Any, *, run_id: str | None, run_input: Any,
                 resume: RunState | None = None) -> tuple[RunState, RunFailed | None]:
    from flowscript.runtime.engine import Engine
    from flowscript.runtime.local_backend import LocalBackend

    engine = Engine(plan, LocalBackend(), options)
    if resume is not None:
        return resume, asyncio.run(_outcome(engine.resume(resume, prepared.secrets)))
    state = engine.new_state(prepared.config, run_id=run_id, input=run_input)
    return state, asyncio.run(_outcome(engine.run(state, prepared.secrets)))


def _runner(kind: str, dask_address: str | None) -> Any:
    from flowscript.prefect_backend.task_runners import TaskRunnerChoice

    return TaskRunnerChoice.of(kind, dask_address)


def _run_on_prefect(plan: Any, config: dict[str, Any], run_input: Any, options: Any,
                    resume: RunState | None = None, runner: Any = None) -> tuple[RunState, RunFailed | None]:
    """One flow run (secrets are read again, inside it, from the same environment)."""
    from flowscript.prefect_backend.launcher import run_through_prefect

    launch = asyncio.run(run_through_prefect(plan, config, run_input, options, resume=resume, runner=runner))
    assert launch.state is not None
    return launch.state, launch.failure


@app.command()
@reports_errors
def resume(
    state_file: Path = typer.Argument(..., help="the state file of the run to resume", show_default=False),
    config: list[str] = CONFIG,
    force: bool = typer.Option(False, "--force", help="Resume even though the workflow file changed."),
    max_concurrency: int = MAX_CONCURRENCY,
    timeout: float | None = TIMEOUT,
    retries: int | None = RETRIES,
    no_retry: bool = NO_RETRY,
    no_log: bool = NO_LOG,
    format: Format = FORMAT,
    local: bool = LOCAL,
    task_runner: str = TASK_RUNNER,
    dask_address: str | None = DASK_ADDRESS,
) -> None:
    """Resume a failed, cancelled or orphaned run: re-run what did not succeed, from the failed wave on."""
    from flowscript.runtime.launch import check_resumable, prepare_run, workflow_path_of
    from flowscript.runtime.persistence import load_state

    state = load_state(state_file)
    prepared = prepare_run(workflow_path_of(state), parse_assignments(config), env=os.environ,
                           base_config=state.config, require_secrets=local or state.backend == "local")
    check_resumable(state, prepared.loaded.workflow.source_sha256, force=force)
    state.config = prepared.config
    state_dir = state_file.resolve().parent.parent
    workdir = Path(state.workdir) if state.workdir else Path.cwd()
    options = _options(max_concurrency, timeout, retries, no_retry, state_dir, no_log, workdir)
    redactor = Redactor(prepared.secrets.values())
    plan = prepared.loaded.plan
    if local or state.backend == "local":  # a run resumes on the backend it started on, unless --local
        outcome = _run_locally(plan, prepared, options, run_id=None, run_input=state.input, resume=state)
    else:
        outcome = _run_on_prefect(plan, state.config, state.input, options, resume=state,
                                  runner=_runner(task_runner, dask_address))
    _finish(*outcome, format, options, redactor)


async def _outcome(run: Any) -> RunFailed | None:
    try:
        await run
    except RunFailed as e:
        return e
    return None


def _finish(state: RunState, failure: RunFailed | None, format: Format, options: Any, redactor: Redactor) -> None:
    """Prints the summary (secret values redacted, like everything else we write) and exits."""
    from flowscript.runtime.markdown_log import is_iteration_key, run_duration_s

    def error_of(result: Any) -> str | None:
        return redactor.text(result.error.message) if result.status == "failed" and result.error else None

    for warning in options.log_warnings:
        print(f"warning: {redactor.text(str(warning))}", file=sys.stderr)
    run_error = redactor.text(failure.message) if failure else None
    state_file = state_path(options.state_dir, state.workflow_id, state.run_id) if options.state_dir else None
    if format is Format.json:
        typer.echo(json.dumps({
            "runId": state.run_id, "workflow": state.workflow_id, "status": state.status,
            "durationMs": round(run_duration_s(state) * 1000), "stateFile": str(state_file) if state_file else None,
            "error": run_error,
            "nodes": {k: {"status": r.status, "durationMs": round(r.duration), "error": error_of(r)}
                      for k, r in state.node_results.items() if not is_iteration_key(k)},
        }, indent=2))
    else:
        rows = [(k, r) for k, r in state.node_results.items() if not is_iteration_key(k)]
        width = max([len(k) for k, _ in rows] + [4])
        typer.echo(f"{state.workflow_id}: {state.status} in {run_duration_s(state):.2f}s (run {state.run_id})")
        for key, result in rows:
            note = f"  {error_of(result)}" if error_of(result) else ""
            fell_back = f"  (fell back to {result.fell_back_to})" if result.fell_back_to else ""
            typer.echo(f"  {key:<{width}}  {result.status:<7}  {result.duration / 1000:6.2f}s{fell_back}{note}")
        if failure is not None:
            typer.echo(f"error: {run_error}", err=True)
        if state_file:
            typer.echo(f"state: {state_file}")
    raise typer.Exit(EXIT_OK if failure is None else EXIT_FAILED)


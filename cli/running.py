"""Commands that run workflows: run and resume. The engine is imported by the command that
runs, not by this module: `--help` and `--version` start in milliseconds."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscript.cli.app import (
    EXIT_FAILED,
    EXIT_OK,
    add_task_runner_options,
    echo,
    positive_int,
    seconds,
    task_runner_of,
    whole_number,
)
from flowscript.errors import ValidationError
from flowscript.signals import RunFailed

if TYPE_CHECKING:
    from flowscript.runtime.secrets import Redactor
    from flowscript.runtime.state import RunState


def add_commands(commands: Any) -> None:
    run_cmd = commands.add_parser("run", help="run a workflow (through Prefect, or --local)",
                                  description="Run a workflow. Exit 0 completed, 1 failed or cancelled, 2 invalid.")
    run_cmd.add_argument("file", type=Path, metavar="FILE", help="the .flow.md workflow")
    _run_options(run_cmd)
    run_cmd.add_argument("--input", help="the run's input as JSON")
    run_cmd.add_argument("--state-dir", type=Path, help="where state files go (default: .flowscript-state)")
    run_cmd.add_argument("--dry-run", action="store_true", help="check and print the plan; run nothing")
    run_cmd.add_argument("--run-id", help="use this run id instead of a new UUID (with --local)")
    run_cmd.set_defaults(command=run)

    resume_cmd = commands.add_parser("resume", help="finish a failed, cancelled or orphaned run",
                                     description="Resume a failed, cancelled or orphaned run: re-run what did not "
                                                 "succeed, from the failed wave on. A completed run: nothing to do, "
                                                 "exit 0.")
    resume_cmd.add_argument("state_file", type=Path, metavar="STATE_FILE", help="the state file of the run to resume")
    _run_options(resume_cmd)
    resume_cmd.add_argument("--force", action="store_true", help="resume even though the workflow file changed")
    resume_cmd.set_defaults(command=resume)


def _run_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE",
                         help="a config value (repeatable; JSON values accepted)")
    command.add_argument("--max-concurrency", type=positive_int, default=10, metavar="N",
                         help="nodes of a wave running at once (default 10)")
    command.add_argument("--timeout", type=seconds, metavar="SECONDS", help="stop the run after this many seconds")
    command.add_argument("--retries", type=whole_number, metavar="N",
                         help="default retry count for nodes without <on-error>")
    command.add_argument("--no-retry", action="store_true", help="run every node once, ignoring retry policies")
    command.add_argument("--no-log", action="store_true", help="do not write the execution log into the .flow.md")
    command.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    command.add_argument("--local", action="store_true",
                         help="run with the Prefect-less engine (no Prefect import, no server)")
    add_task_runner_options(command, "node executions")


def _options(args: argparse.Namespace, state_dir: Path, workdir: Path) -> Any:
    from flowscript.cli.progress import progress_for
    from flowscript.runtime.engine import RunOptions
    from flowscript.runtime.retry import RetrySettings

    return RunOptions(
        max_concurrency=args.max_concurrency,
        timeout_s=args.timeout or None,
        default_retry=RetrySettings(max_retries=args.retries) if args.retries is not None else None,
        retries_enabled=not args.no_retry,
        state_dir=state_dir,
        write_log=not args.no_log,
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


def run(args: argparse.Namespace) -> int:
    from flowscript.cli.inspect import render_plan
    from flowscript.compiler.run_config import parse_assignments
    from flowscript.runtime.launch import prepare_run
    from flowscript.runtime.persistence import DEFAULT_STATE_DIR
    from flowscript.runtime.secrets import Redactor

    prepared = prepare_run(args.file, parse_assignments(args.config), env=os.environ, require_secrets=args.local)
    for d in prepared.loaded.diagnostics:
        echo(d.render(), err=True)
    if args.dry_run:
        echo(json.dumps(prepared.loaded.plan.to_json(), indent=2) if args.format == "json"
             else render_plan(prepared.loaded.plan))
        return EXIT_OK
    options = _options(args, args.state_dir or Path(DEFAULT_STATE_DIR), Path.cwd())
    redactor = Redactor(prepared.secrets.values())
    plan, run_input = prepared.loaded.plan, _parse_input(args.input)
    if args.local:
        state, failure = _run_locally(plan, prepared, options, run_id=args.run_id, run_input=run_input)
    else:
        if args.run_id is not None:
            raise ValidationError("--run-id works only with --local", code="VALID_INVALID_FIELD_TYPE",
                                  hint="a run through Prefect takes its flow run's id")
        _start_prefect_early()
        state, failure = _run_on_prefect(plan, prepared.config, run_input, options, runner=task_runner_of(args))
    return _finish(state, failure, args.format, options, redactor)


def _run_locally(plan: Any, prepared: Any, options: Any, *, run_id: str | None, run_input: Any,
                 resume: RunState | None = None) -> tuple[RunState, RunFailed | None]:
    import asyncio

    from flowscript.runtime.engine import Engine
    from flowscript.runtime.local_backend import LocalBackend

    engine = Engine(plan, LocalBackend(), options)
    if resume is not None:
        return resume, asyncio.run(_outcome(engine.resume(resume, prepared.secrets)))
    state = engine.new_state(prepared.config, run_id=run_id, input=run_input)
    return state, asyncio.run(_outcome(engine.run(state, prepared.secrets)))


def _start_prefect_early() -> None:
    """With no Prefect API configured, the temporary server starts now, while Prefect is
    imported, and the user is told why the run takes seconds to start."""
    from flowscript.prefect_backend.temporary_server import start_early

    start_early()


def _run_on_prefect(plan: Any, config: dict[str, Any], run_input: Any, options: Any,
                    resume: RunState | None = None, runner: Any = None) -> tuple[RunState, RunFailed | None]:
    """One flow run (secrets are read again, inside it, from the same environment)."""
    import asyncio

    from flowscript.prefect_backend.launcher import run_through_prefect

    launch = asyncio.run(run_through_prefect(plan, config, run_input, options, resume=resume, runner=runner))
    assert launch.state is not None
    return launch.state, launch.failure


def resume(args: argparse.Namespace) -> int:
    from flowscript.compiler.run_config import parse_assignments
    from flowscript.runtime.launch import check_resumable, nothing_to_resume, prepare_run, workflow_path_of
    from flowscript.runtime.persistence import load_state
    from flowscript.runtime.secrets import Redactor

    state = load_state(args.state_file)
    if state.status == "completed":  # before reading the workflow: it may have changed or moved since
        echo(nothing_to_resume(state))
        return EXIT_OK
    prepared = prepare_run(workflow_path_of(state), parse_assignments(args.config), env=os.environ,
                           base_config=state.config, require_secrets=args.local or state.backend == "local")
    answer = check_resumable(state, prepared.loaded.workflow.source_sha256, force=args.force)
    if answer is not None:
        echo(answer)
        return EXIT_OK
    state.config = prepared.config
    state_dir = args.state_file.resolve().parent.parent
    workdir = Path(state.workdir) if state.workdir else Path.cwd()
    options = _options(args, state_dir, workdir)
    redactor = Redactor(prepared.secrets.values())
    plan = prepared.loaded.plan
    if args.local or state.backend == "local":  # a run resumes on the backend it started on, unless --local
        outcome = _run_locally(plan, prepared, options, run_id=None, run_input=state.input, resume=state)
    else:
        _start_prefect_early()
        outcome = _run_on_prefect(plan, state.config, state.input, options, resume=state, runner=task_runner_of(args))
    return _finish(*outcome, args.format, options, redactor)


async def _outcome(run: Any) -> RunFailed | None:
    try:
        await run
    except RunFailed as e:
        return e
    return None


def _finish(state: RunState, failure: RunFailed | None, format: str, options: Any, redactor: Redactor) -> int:
    """Prints the summary (secret values redacted, like everything else we write); the exit code."""
    from flowscript.runtime.markdown_log import is_iteration_key, run_duration_s
    from flowscript.runtime.persistence import state_path

    def error_of(result: Any) -> str | None:
        return redactor.text(result.error.message) if result.status == "failed" and result.error else None

    for warning in options.log_warnings:
        print(f"warning: {redactor.text(str(warning))}", file=sys.stderr)
    run_error = redactor.text(failure.message) if failure else None
    state_file = state_path(options.state_dir, state.workflow_id, state.run_id) if options.state_dir else None
    if format == "json":
        echo(json.dumps({
            "runId": state.run_id, "workflow": state.workflow_id, "status": state.status,
            "durationMs": round(run_duration_s(state) * 1000), "stateFile": str(state_file) if state_file else None,
            "error": run_error,
            "nodes": {k: {"status": r.status, "durationMs": round(r.duration), "error": error_of(r)}
                      for k, r in state.node_results.items() if not is_iteration_key(k)},
        }, indent=2))
    else:
        rows = [(k, r) for k, r in state.node_results.items() if not is_iteration_key(k)]
        width = max([len(k) for k, _ in rows] + [4])
        echo(f"{state.workflow_id}: {state.status} in {run_duration_s(state):.2f}s (run {state.run_id})")
        for key, result in rows:
            note = f"  {error_of(result)}" if error_of(result) else ""
            fell_back = f"  (fell back to {result.fell_back_to})" if result.fell_back_to else ""
            echo(f"  {key:<{width}}  {result.status:<7}  {result.duration / 1000:6.2f}s{fell_back}{note}")
        if failure is not None:
            echo(f"error: {run_error}", err=True)
        if state_file:
            echo(f"state: {state_file}")
    return EXIT_OK if failure is None else EXIT_FAILED


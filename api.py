"""Running a workflow from Python (docs/testing.md): `run_workflow` and `arun_workflow`.

The same engine as `flowscript run --local`, with defaults for tests and scripts: no state
file, no log written into the workflow file, secrets only from the mapping given (the
environment only when asked), checkpoints answered from `approvals`. It never imports Prefect.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from flowscript.runtime.secrets import Redactor
    from flowscript.runtime.state import RunState

Status = Literal["completed", "failed", "cancelled"]
Approval = Literal["approve", "reject"] | tuple[Literal["approve", "reject"], str]


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """What one node did: its status, attempts, error (a message) and duration."""

    status: Literal["success", "failed", "skipped"]
    attempts: int
    error: str | None
    duration_ms: float
    output: Any = None
    error_code: str | None = None
    fell_back_to: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """A finished run: its status, each node's output and outcome, the files its sinks wrote,
    its error and the markdown log's text. Iterations' results are in `results` under their
    keys (`each[3].fmt`); `outputs` holds each node's output as later nodes saw it."""

    status: Status
    outputs: dict[str, Any]
    results: dict[str, NodeOutcome]
    files: dict[str, int]  # path (relative to the working folder) -> bytes written
    error: str | None
    log: str
    run_id: str
    workdir: Path
    state: RunState = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def output(self, node: str) -> Any:
        """A node's output; a clear AssertionError naming the node when it has none."""
        if node not in self.results:
            raise AssertionError(f"node {node!r} did not run (nodes: {', '.join(self.results) or 'none'})")
        return self.outputs.get(node)


def run_workflow(workflow: str | os.PathLike[str], *, config: Mapping[str, Any] | None = None, input: Any = None,
                 secrets: Mapping[str, str] | None = None, secrets_from_env: bool = False,
                 workdir: str | os.PathLike[str] | None = None, approvals: Mapping[str, Approval] | None = None,
                 env: Mapping[str, str] | None = None, max_concurrency: int = 10, timeout: float | None = None,
                 retries: int | None = None, no_retry: bool = False, instant_retries: bool = False,
                 state_dir: str | os.PathLike[str] | None = None, write_log: bool = False,
                 run_id: str | None = None) -> RunResult:
    """Runs a workflow (a .flow.md path, or the text of one) with the local backend.

    Raises InvalidWorkflow (every diagnostic in `.diagnostics`) when it does not check, and
    FlowScriptError for a bad config value or a missing secret; a run that fails or is
    cancelled is a RunResult with that status, not an exception.
    - `workdir`: where relative file paths go (default: the workflow file's folder, or the
      current folder for text);
    - `approvals`: checkpoint id -> "approve", "reject" or (action, comment); a checkpoint
      not named takes its default action at once;
    - `env`: the environment nodes read (FLOWSCRIPT_AI_BASE_URL...); default: this process's;
    - `instant_retries`: retries happen as the policy says, without waiting between them.
    """
    return asyncio.run(arun_workflow(
        workflow, config=config, input=input, secrets=secrets, secrets_from_env=secrets_from_env, workdir=workdir,
        approvals=approvals, env=env, max_concurrency=max_concurrency, timeout=timeout, retries=retries,
        no_retry=no_retry, instant_retries=instant_retries, state_dir=state_dir, write_log=write_log, run_id=run_id))


async def arun_workflow(workflow: str | os.PathLike[str], *, config: Mapping[str, Any] | None = None,
                        input: Any = None, secrets: Mapping[str, str] | None = None, secrets_from_env: bool = False,
                        workdir: str | os.PathLike[str] | None = None,
                        approvals: Mapping[str, Approval] | None = None, env: Mapping[str, str] | None = None,
                        max_concurrency: int = 10, timeout: float | None = None, retries: int | None = None,
                        no_retry: bool = False, instant_retries: bool = False,
                        state_dir: str | os.PathLike[str] | None = None, write_log: bool = False,
                        run_id: str | None = None) -> RunResult:
    """`run_workflow` for code that already runs an event loop."""
    from flowscript.compiler.loader import load_workflow, load_workflow_text
    from flowscript.compiler.run_config import resolve_config
    from flowscript.compiler.sites import used_secrets
    from flowscript.runtime.engine import Engine, RunOptions
    from flowscript.runtime.local_backend import LocalBackend
    from flowscript.runtime.retry import RetrySettings
    from flowscript.runtime.secrets import read_secrets
    from flowscript.signals import RunFailed

    path = workflow_path(workflow)
    loaded = load_workflow(path) if path is not None else load_workflow_text(str(workflow))
    meta = loaded.workflow.meta
    values = resolve_config(meta, dict(config or {}))
    environment = dict(os.environ if env is None else env)
    found = read_secrets(meta.secrets, environment if secrets_from_env else {}, dict(secrets or {}),
                         required=used_secrets(loaded.workflow) & set(meta.secrets))
    folder = Path(workdir) if workdir is not None else (path.parent if path is not None else Path.cwd())
    options = RunOptions(max_concurrency=max_concurrency, timeout_s=timeout, retries_enabled=not no_retry,
                         default_retry=RetrySettings(max_retries=retries) if retries is not None else None,
                         state_dir=Path(state_dir) if state_dir is not None else None,
                         write_log=write_log, workdir=folder, env=environment)
    backend = LocalBackend(approvals=dict(approvals or {}), instant_retries=instant_retries)
    engine = Engine(loaded.plan, backend, options)
    state = engine.new_state(values, run_id=run_id, input=input)
    failure: RunFailed | None = None
    try:
        await engine.run(state, found)
    except RunFailed as error:
        failure = error
    return _result(state, failure, folder, engine.redactor)


def workflow_path(workflow: str | os.PathLike[str]) -> Path | None:
    """The file `workflow` names, or None when it is the workflow's text (the one rule for the
    API and the pytest plugin)."""
    if isinstance(workflow, os.PathLike):
        return Path(workflow)
    text = workflow.lstrip("\ufeff")
    return None if text.startswith("---") or "<workflow" in text else Path(workflow)


def _result(state: RunState, failure: Any, workdir: Path, redactor: Redactor) -> RunResult:
    """`redactor`: the run's, which knows its secrets and the secret-derived values it made."""
    from flowscript.runtime.markdown_log import format_log, is_iteration_key

    results = {key: NodeOutcome(status=r.status, attempts=r.attempts, duration_ms=r.duration, output=r.output,
                                error=r.error.message if r.error and r.status == "failed" else None,
                                error_code=r.error.code if r.error and r.status == "failed" else None,
                                fell_back_to=r.fell_back_to)
               for key, r in state.node_results.items()}
    outputs = {key: r.output for key, r in state.node_results.items()
               if r.status == "success" and not is_iteration_key(key)}
    files = {}
    for r in state.node_results.values():
        written = r.output if r.status == "success" and isinstance(r.output, dict) else {}
        if set(written) == {"path", "bytes"} and isinstance(written.get("path"), str):
            files[written["path"]] = written["bytes"]
    status: Status = state.status if state.status in ("completed", "failed", "cancelled") else "failed"
    return RunResult(status=status, outputs=outputs, results=results, files=files,
                     error=redactor.text(failure.message) if failure is not None else None,
                     log=format_log(state, redactor), run_id=state.run_id, workdir=workdir, state=state)

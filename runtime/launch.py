"""What every way of starting or resuming a run does first, whichever backend runs it:
load and check the workflow, type its config, read its secrets, check a resume is allowed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowscript.compiler.loader import LoadedWorkflow, load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.compiler.sites import used_secrets
from flowscript.errors import FlowScriptError
from flowscript.runtime.secrets import read_secrets
from flowscript.runtime.state import RunState


class ResumeRefused(FlowScriptError):
    default_code = "RUN_RESUME_REFUSED"


@dataclass(frozen=True, slots=True)
class PreparedRun:
    loaded: LoadedWorkflow
    config: dict[str, Any]
    secrets: dict[str, str]


def prepare_run(path: str | os.PathLike[str], config_values: Mapping[str, Any], *, env: Mapping[str, str],
                from_text: bool = True, base_config: Mapping[str, Any] | None = None,
                require_secrets: bool = True) -> PreparedRun:
    """Raises the project's errors (exit 2) before anything runs. `require_secrets=False` leaves
    missing secrets to the backend (Prefect may find them in Secret blocks)."""
    loaded = load_workflow(path)
    meta = loaded.workflow.meta
    config = resolve_config(loaded.workflow, config_values, from_text=from_text, base=base_config)
    required = used_secrets(loaded.workflow) & set(meta.secrets) if require_secrets else set()
    secrets = read_secrets(meta.secrets, env, required=required, workflow=loaded.workflow)
    return PreparedRun(loaded, config, secrets)


def check_resumable(state: RunState, workflow_sha256: str, *, force: bool) -> None:
    if state.status == "completed":
        raise ResumeRefused(f"run {state.run_id} completed: there is nothing to resume")
    if state.status in ("running", "pending") and state.owner is not None and state.owner.is_alive():
        raise ResumeRefused(f"run {state.run_id} is still running (process {state.owner.pid} on {state.owner.host})",
                            hint="wait for it to end, or stop that process first")
    if state.workflow_sha256 and state.workflow_sha256 != workflow_sha256 and not force:
        raise ResumeRefused(f"the workflow file changed since run {state.run_id} started",
                            hint="resume with --force to run the remaining nodes of the changed workflow")


def workflow_path_of(state: RunState) -> Path:
    if not state.workflow_path:
        raise ResumeRefused("the state file does not say which workflow file it ran")
    return Path(state.workflow_path)

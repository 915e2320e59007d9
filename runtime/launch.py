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
    """A workflow ready to run: loaded, its config resolved, its secrets read."""

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


def check_resumable(state: RunState, workflow_sha256: str, *, force: bool) -> str | None:
    """None when the run may be resumed; raises ResumeRefused when it may not (its process is
    alive, its workflow file changed). A completed run is not an error: the answer is then what
    to tell the user (docs/language.md#persistence-and-resume): resuming it changes nothing,
    says so and succeeds (exit 0), so a supervisor that resumes until success can always stop."""
    if state.status == "completed":
        return nothing_to_resume(state)
    if state.status in ("running", "pending") and state.owner is not None and state.owner.is_alive():
        raise ResumeRefused(f"run {state.run_id} is still running (process {state.owner.pid} on {state.owner.host})",
                            hint="wait for it to end, or stop that process first")
    if state.workflow_sha256 and state.workflow_sha256 != workflow_sha256 and not force:
        raise ResumeRefused(f"the workflow file changed since run {state.run_id} started",
                            hint="resume with --force to run the remaining nodes of the changed workflow")
    return None


def nothing_to_resume(state: RunState) -> str:
    """The one line a resume of a completed run prints."""
    when = f" at {state.completed_at}" if state.completed_at else ""
    return (f"run {state.run_id} of {state.workflow_id} completed{when}: nothing to resume, "
            "nothing changed")


def workflow_path_of(state: RunState) -> Path:
    if not state.workflow_path:
        raise ResumeRefused("the state file does not say which workflow file it ran")
    return Path(state.workflow_path)

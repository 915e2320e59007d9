"""Running a workflow on the local backend inside a test, as the CLI does: one helper for
the engine, example, reliability and parity tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowscript.compiler.loader import LoadedWorkflow, load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.compiler.sites import used_secrets
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.persistence import load_state
from flowscript.runtime.secrets import read_secrets
from flowscript.runtime.state import NodeResult, RunState
from flowscript.signals import RunFailed


@dataclass
class Outcome:
    state: RunState
    failure: RunFailed | None
    engine: Engine

    @property
    def status(self) -> str:
        return self.state.status

    def output(self, key: str) -> Any:
        return self.state.node_results[key].output

    def result(self, key: str) -> NodeResult:
        return self.state.node_results[key]

    @property
    def state_file(self) -> Path:
        path = self.engine.state_file(self.state)
        assert path is not None
        return path

    def saved(self) -> RunState:
        return load_state(self.state_file)


async def run_local(path: Path, *, config: dict[str, Any] | None = None, input: Any = None,
                    secrets: dict[str, str] | None = None, resume: RunState | None = None, backend: Any = None,
                    loaded: LoadedWorkflow | None = None, **options: Any) -> Outcome:
    """Runs (or resumes) the workflow in this process, its folder the workdir, state files in
    its .state/ (`loaded`: the file already loaded). Secrets: `secrets`; without them and with an `env` option, the declared ones
    `env` holds, as the CLI reads them (a used one missing is an error); else none."""
    loaded = loaded or load_workflow(path)
    options.setdefault("workdir", path.parent)
    options.setdefault("state_dir", path.parent / ".state")
    engine = Engine(loaded.plan, backend or LocalBackend(interactive=False), RunOptions(**options))
    if secrets is None and "env" in options:
        meta = loaded.workflow.meta
        secrets = read_secrets(meta.secrets, options.get("env") or {},
                               required=used_secrets(loaded.workflow) & set(meta.secrets))
    if resume is not None:
        state, running = resume, engine.resume(resume, secrets or {})
    else:
        state = engine.new_state(resolve_config(loaded.workflow.meta, config or {}), input=input)
        running = engine.run(state, secrets or {})
    try:
        await running
    except RunFailed as failure:
        return Outcome(state, failure, engine)
    return Outcome(state, None, engine)

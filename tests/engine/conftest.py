"""Running workflows with the local backend inside a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.persistence import load_state
from flowscript.runtime.signals import RunFailed
from flowscript.runtime.state import RunState


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

    def result(self, key: str):
        return self.state.node_results[key]

    @property
    def state_file(self) -> Path:
        path = self.engine.state_file(self.state)
        assert path is not None
        return path

    def saved(self) -> RunState:
        return load_state(self.state_file)


async def run_flow(path: Path, *, config: dict[str, Any] | None = None, input: Any = None,
                   secrets: dict[str, str] | None = None, backend: Any = None, **options: Any) -> Outcome:
    loaded = load_workflow(path)
    options.setdefault("workdir", path.parent)
    options.setdefault("state_dir", path.parent / ".state")
    engine = Engine(loaded.plan, backend or LocalBackend(interactive=False), RunOptions(**options))
    state = engine.new_state(resolve_config(loaded.workflow.meta, config or {}), input=input)
    try:
        await engine.run(state, secrets or {})
    except RunFailed as failure:
        return Outcome(state, failure, engine)
    return Outcome(state, None, engine)


@pytest.fixture
def run():
    return run_flow

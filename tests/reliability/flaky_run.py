"""Writing a workflow file and running it with the local engine, for the reliability tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.signals import RunFailed
from flowscript.runtime.state import NodeResult, RunState


def write_workflow(folder: Path, body: str, *, name: str = "reliability", extra: str = "") -> Path:
    path = folder / f"{name}.flow.md"
    path.write_text(f"---\nname: {name}\nversion: 1.0.0\n{extra}---\n\n# {name}\n\n<workflow>\n{body.strip()}\n"
                    "</workflow>\n", encoding="utf-8")
    return path


@dataclass
class Ran:
    state: RunState
    failure: RunFailed | None
    engine: Engine

    @property
    def status(self) -> str:
        return self.state.status

    def result(self, key: str) -> NodeResult:
        return self.state.node_results[key]

    def output(self, key: str) -> Any:
        return self.state.node_results[key].output


async def run_local(path: Path, *, config: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
                    **options: Any) -> Ran:
    loaded = load_workflow(path)
    options.setdefault("workdir", path.parent)
    options.setdefault("state_dir", path.parent / ".state")
    engine = Engine(loaded.plan, LocalBackend(interactive=False), RunOptions(**options))
    state = engine.new_state(resolve_config(loaded.workflow.meta, config or {}))
    try:
        await engine.run(state, secrets or {})
    except RunFailed as failure:
        return Ran(state, failure, engine)
    return Ran(state, None, engine)

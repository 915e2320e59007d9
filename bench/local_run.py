"""One timed run of a workflow on the local backend, for the engine benchmarks."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.state import RunState


def timed_run(path: Path, *, state: bool, log: bool = False, config: dict[str, str] | None = None
              ) -> tuple[float, RunState]:
    """Seconds of one engine run (loading the workflow is not counted) and the completed run;
    the state file goes to .state/ beside the workflow when `state`."""
    loaded = load_workflow(path)
    options = RunOptions(workdir=path.parent, state_dir=path.parent / ".state" if state else None, write_log=log)
    engine = Engine(loaded.plan, LocalBackend(interactive=False), options)
    run_state = engine.new_state(resolve_config(loaded.workflow.meta, config or {}))
    start = time.perf_counter()
    asyncio.run(engine.run(run_state, {}))
    elapsed = time.perf_counter() - start
    assert run_state.status == "completed", run_state.status
    return elapsed, run_state

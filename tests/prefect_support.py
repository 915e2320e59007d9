"""Running workflows through a real Prefect API in tests (tests/prefect, tests/parity).

The session fixture `prefect_api` (tests/conftest.py) starts Prefect's own test harness once
per session; this module holds what it yields and how a test runs a workflow as a Prefect
flow run in this process. Prefect is imported only inside the functions, so a run of the
local-only tests never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PrefectApi:
    url: str
    results: Path  # where task results are persisted

    def env(self) -> dict[str, str]:
        """For `flowscript` subprocesses: talk to this API, store results in the same place."""
        return {"PREFECT_API_URL": self.url, "PREFECT_LOCAL_STORAGE_PATH": str(self.results),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


@contextmanager
def prefect_harness(results: Path) -> Iterator[PrefectApi]:
    """A temporary SQLite database behind a Prefect server subprocess on 127.0.0.1; task
    results go to `results`, so tests can read what was stored."""
    from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    import flowscript.prefect_backend  # noqa: F401  (its environment defaults, before the server starts)

    with prefect_test_harness(server_startup_timeout=60), temporary_settings(
            updates={PREFECT_LOCAL_STORAGE_PATH: str(results)}):
        yield PrefectApi(PREFECT_API_URL.value(), results)


@dataclass
class PrefectOutcome:
    state: Any
    failure: Any
    warnings: list[str] = field(default_factory=list)  # what the command line prints as `warning:`
    task_run_ids: list[Any] = field(default_factory=list)  # the task runs the backend made, in order

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def flow_run_id(self) -> str:
        return self.state.run_id

    def output(self, key: str) -> Any:
        return self.state.node_results[key].output


async def run_on_prefect(path: Path, *, config: dict[str, Any] | None = None, input: Any = None,
                         env: dict[str, str] | None = None, resume: Any = None, persist_results: bool = True,
                         runner: Any = None, **options: Any) -> PrefectOutcome:
    """Runs a workflow file as a Prefect flow run in this process (its folder is the workdir)."""
    from flowscript.compiler.loader import load_workflow
    from flowscript.compiler.run_config import resolve_config
    from flowscript.prefect_backend.launcher import run_through_prefect
    from flowscript.runtime.engine import RunOptions

    loaded = load_workflow(path)
    options.setdefault("workdir", path.parent)
    options.setdefault("state_dir", path.parent / ".state")
    run_options = RunOptions(env=env or {}, **options)
    resolved = resolve_config(loaded.workflow.meta, config or {}, base=resume.config if resume else None)
    launch = await run_through_prefect(loaded.plan, resolved, input, run_options, resume=resume, interactive=False,
                                       persist_results=persist_results, runner=runner)
    return PrefectOutcome(launch.state, launch.failure, run_options.log_warnings,
                          launch.backend.task_run_ids() if launch.backend is not None else [])


async def recorded_task_runs(client: Any, flow_run_id: Any, *, names: Iterable[str] = (), ids: Iterable[Any] = (),
                             timeout_s: float = 30) -> list[Any]:
    """A flow run's task runs, once the server has recorded the ones named (by name or id) and
    every one it holds is final. Prefect records task runs from their events, a moment after
    they happen: a read right after the run may miss the last. At the deadline this returns
    what there is, and the caller's assertion says what is missing."""
    import asyncio
    import time
    from uuid import UUID

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    only_this_run = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(flow_run_id))]))
    wanted_names, wanted_ids = set(names), set(ids)
    deadline = time.monotonic() + timeout_s
    while True:
        runs = await client.read_task_runs(flow_run_filter=only_this_run)
        if (runs and wanted_names <= {run.name for run in runs} and wanted_ids <= {run.id for run in runs}
                and all(run.state is not None and run.state.is_final() for run in runs)):
            return runs
        if time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.1)

"""Running workflows through a real Prefect API in tests (tests/prefect, tests/parity).

The session fixture `prefect_api` (tests/conftest.py) starts Prefect's own test harness once
per session; this module holds what it yields and how a test runs a workflow as a Prefect
flow run in this process. Prefect is imported only inside the functions, so a run of the
local-only tests never imports it.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    return PrefectOutcome(launch.state, launch.failure, run_options.log_warnings)

"""prefect-dask's task runner, with the workers of a temporary LocalCluster told the flow run's
Prefect API. Imported only for `--task-runner dask` (it imports Dask)."""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin, get_worker
from prefect_dask import DaskTaskRunner

from flowscript.prefect_backend.console import quiet_console
from flowscript.prefect_backend.tag_limits import prime_no_limits


class FlowDaskTaskRunner(DaskTaskRunner):
    """A worker process reports its task runs' logs and events under its own settings: with no
    API to name (the flow's may be a temporary one it started) it would start an API of its own."""

    def __enter__(self) -> Any:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        if url and not self.address:
            env = {**self.cluster_kwargs.get("env", {}), "PREFECT_API_URL": url}
            self.cluster_kwargs = {**self.cluster_kwargs, "env": env}
        self._primed = False
        entered = super().__enter__()
        # A temporary cluster's workers print on this command's terminal. (Prefect also enters
        # a copy of the flow's runner around every task a worker runs: there it stays idle.)
        if not self.address and not _in_worker():
            self.client.register_plugin(QuietConsole())
        return entered

    def prime_workers(self, tag_sets: list[frozenset[str]]) -> None:
        """Once per run: every worker primes Prefect's no-limit cache for these tag sets."""
        if not self._primed:
            self._primed = True
            self.client.register_plugin(NoTagLimits(tag_sets))


def _in_worker() -> bool:
    try:
        get_worker()
    except ValueError:
        return False
    return True


class QuietConsole(WorkerPlugin):
    """A worker of a temporary cluster shows on the terminal what the flow's process shows
    (prefect_backend/console.py): a node's failure is the command's to report, not a traceback."""

    name = "flowscript-quiet-console"

    def setup(self, worker: Any) -> None:
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # the console handler a task would set up later, filtered from the start
        quiet_console()


class NoTagLimits(WorkerPlugin):
    """Tells each worker's Prefect, as a task starts, that this run's tag sets have no
    concurrency limit (those that have one are left out): the flow's process does the same for
    its own task runs (tag_limits.py), sparing a per-task-run ask that a SQLite API often
    answers 503, which Prefect's client retries 2 s later."""

    name = "flowscript-tag-limits"

    def __init__(self, tag_sets: list[frozenset[str]]) -> None:
        self.tag_sets = tag_sets

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing":
            prime_no_limits(self.tag_sets)

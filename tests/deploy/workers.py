"""Work pools and their workers for the deployment tests: each worker is a real
`prefect worker start --pool NAME` process on another "machine": its own empty working
folder and HOME (so its own ~/.prefect and ~/.flowscript), told only the API's URL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect_server import stop_group

PREFECT = Path(sys.executable).parent / "prefect"


@dataclass(frozen=True)
class Worker:
    home: Path  # its HOME: runs work in home/.flowscript/runs/<workflow>/<flow-run-id>
    folder: Path  # where it was started (stays empty)
    log: Path
    pid: int

    def runs(self, workflow: str) -> Path:
        return self.home / ".flowscript" / "runs" / workflow

    def children(self) -> list[str]:
        """The processes the worker started (a flow run's process while it runs)."""
        out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
        rows = [line.split(None, 2) for line in out.splitlines() if line.strip()]
        found, frontier = [], {str(self.pid)}
        while frontier:
            new = [r for r in rows if r[1] in frontier]
            found += new
            frontier = {r[0] for r in new}
        return [f"{r[0]} {r[2] if len(r) > 2 else ''}" for r in found]


@contextmanager
def worker(api_url: str, pool: str, root: Path, *, env: dict[str, str] | None = None) -> Iterator[Worker]:
    """A process worker of `pool` in an empty folder with a HOME of its own, stopped afterwards."""
    home, folder = root / "home", root / "cwd"
    home.mkdir(parents=True)
    folder.mkdir(parents=True)
    log_path = root / "worker.log"
    settings = {key: value for key, value in os.environ.items()
                if not key.startswith(("PREFECT_", "FLOWSCRIPT_")) and key not in ("HOME", "PWD")}
    settings.update({"HOME": str(home), "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                     "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1",
                     "PREFECT_LOGGING_LEVEL": "INFO", **(env or {})})
    log = open(log_path, "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", pool, "--type", "process"],
                               cwd=folder, env=settings, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        yield Worker(home, folder, log_path, process.pid)
    finally:
        stop_group(process)
        log.close()


async def create_pool(client: Any, name: str) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate

    await client.create_work_pool(WorkPoolCreate(name=name, type="process"), overwrite=True)


async def deploy_to(api_url: str, folder: Path, options: Any) -> list[Any]:
    """`flowscript.deployments.deploy` against the test server (this process's Prefect settings point there)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flowscript.deployments import deploy

    with temporary_settings({PREFECT_API_URL: api_url}):
        return await deploy(folder, options)


async def wait_for(client: Any, flow_run_id: UUID, until: Any = None, timeout: float = 90) -> Any:
    """The flow run once `until(state)` (by default: once it is final)."""
    until = until or (lambda s: s.is_final())
    deadline = time.monotonic() + timeout
    while True:
        flow_run = await client.read_flow_run(flow_run_id)
        if flow_run.state is not None and until(flow_run.state):
            return flow_run
        if time.monotonic() > deadline:
            raise TimeoutError(f"flow run {flow_run_id} is still {flow_run.state}")
        await asyncio.sleep(0.25)


async def wait_for_input(client: Any, flow_run_id: UUID, key: str) -> None:
    """Prefect pauses (or suspends) the flow run first and stores the approval form's schema a
    moment later; the server refuses an answer before then (a person is never that quick)."""
    import httpx

    for _ in range(100):
        try:
            await client.read_flow_run_input(flow_run_id, key)
            return
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 404:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError(f"no input {key} for flow run {flow_run_id}")


async def logs_of(client: Any, flow_run_id: UUID) -> list[str]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    found = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in sorted(found, key=lambda log: log.timestamp)]

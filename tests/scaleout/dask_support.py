"""What the scale-out tests share: an external Dask cluster as real processes (`dask
scheduler` and two `dask worker`, started in an empty folder of their own and stopped at the
end), and a loopback HTTP server that tells which process sent each request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopback import CountingServer
from prefect_server import free_port, stop_group

DASK = Path(sys.executable).parent / "dask"


@dataclass
class Cluster:
    address: str
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def run_on_workers(self, function: Any) -> dict[str, Any]:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            return client.run(function)

    def executed(self) -> int:
        """How many tasks the workers have run so far."""
        return sum(self.run_on_workers(lambda dask_worker: int(dask_worker.state.executed_count)).values())

    def worker_pids(self) -> set[int]:
        return set(self.run_on_workers(lambda: os.getpid()).values())

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())


@contextmanager
def external_cluster(folder: Path, extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A scheduler and two single-threaded workers on 127.0.0.1: another folder, another HOME,
    no PREFECT_API_URL (a task's Prefect settings travel with it from the flow), nothing of the
    test's environment but `extra_env`."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FLOWSCRIPT_"))}
    env.update(HOME=str(folder), PYTHONWARNINGS="ignore", **(extra_env or {}))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [folder / "scheduler.log", folder / "worker-1.log", folder / "worker-2.log"]
    commands = [[str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                  "--name", f"worker-{i}"] for i in (1, 2)]
    processes = []
    try:
        for command, log in zip(commands, logs, strict=True):
            processes.append(subprocess.Popen(command, cwd=folder, env=env, stdout=log.open("wb"),
                                              stderr=subprocess.STDOUT, start_new_session=True))
            if len(processes) == 1:
                time.sleep(1.0)
        cluster = Cluster(address, processes, logs)
        _wait_for_workers(cluster, 2)
        yield cluster
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # all at once, then wait for each
        for process in processes:
            stop_group(process)


def _wait_for_workers(cluster: Cluster, count: int, timeout: float = 90) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            with Client(cluster.address, timeout=10) as client:
                client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dask cluster did not start:\n{cluster.log_text()[-3000:]}") from None
            time.sleep(0.5)


class SenderServer(CountingServer):
    """Counts requests and notes the process id behind each one (the client's socket, looked up
    with psutil: a process on this machine)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__(answers)
        self.senders: list[int] = []
        server = self

        original = self._server.RequestHandlerClass

        class Noting(original):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                super().setup()
                server.senders.append(_pid_of_client(self.client_address[1], self.server.server_address[1]))

        self._server.RequestHandlerClass = Noting


def _pid_of_client(port: int, server_port: int) -> int:
    """The process whose socket connects from `port` to this server. Its remote end has to match
    too: Linux gives the same local port to connections to other addresses (another process's
    connection to the Prefect API or to the Dask scheduler may hold this number)."""
    import psutil

    for _ in range(20):
        for connection in psutil.net_connections(kind="tcp"):
            if (connection.laddr and connection.laddr.port == port and connection.raddr
                    and connection.raddr.port == server_port and connection.pid):
                return int(connection.pid)
        time.sleep(0.01)
    return -1

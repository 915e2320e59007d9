"""A real `prefect server start` on 127.0.0.1 for the deployment tests (and the Prefect
benchmark, bench/bench_prefect.py --database postgres): started in a temporary
PREFECT_HOME, waited for, stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def stop_group(process: subprocess.Popen, sig: signal.Signals = signal.SIGTERM, grace: float = 20) -> None:
    """Stops a process started with start_new_session=True and everything it started: `sig`
    to its process group, then SIGKILL when it has not exited within `grace` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server(home: Path, *, startup_timeout: float = 90, env: dict[str, str] | None = None,
                   started: list[int] | None = None) -> Iterator[str]:
    """Yields the API URL (`http://127.0.0.1:PORT/api`). `env`: more settings for the server
    (its database, say); `started` receives the server's process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_API_URL": url,  # else the UI calls port 4200
           "PREFECT_API_URL": "", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
           "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false", **(env or {})}
    log = open(home / "server.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                                "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    if started is not None:
        started.append(process.pid)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prefect server exited: {(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("prefect server did not start in time")
            time.sleep(0.3)
        yield url
    finally:
        stop_group(process)
        log.close()

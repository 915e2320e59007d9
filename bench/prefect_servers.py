"""The Prefect APIs bench_prefect.py measures against, and the CPU time of their processes.

sqlite    Prefect's own test harness: a server subprocess on 127.0.0.1 with a temporary
          SQLite database (what `flowscript run` without PREFECT_API_URL gets, and a
          default `prefect server start`).
postgres  `prefect server start` on 127.0.0.1 with a throwaway PostgreSQL 15 cluster
          (initdb in a temporary folder, run as the `postgres` user when this is root),
          the database Prefect recommends for a server that does real work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from prefect_server import free_port, prefect_server  # tests/prefect_server.py

Pids = Callable[[], list[int]]


def with_descendants(pids: list[int]) -> list[int]:
    found: list[int] = []
    todo = list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            todo += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes and their children have used so far; a
    vanished one counts 0."""
    total = 0
    for pid in with_descendants(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def sqlite_harness() -> Iterator[Pids]:
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.testing.utilities import prefect_test_harness

    def pids() -> list[int]:
        server = SubprocessASGIServer._instances.get(None)
        return [server.server_process.pid] if server and server.server_process else []

    with prefect_test_harness(server_startup_timeout=60):
        yield pids


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _pg(binary: str) -> str:
    found = shutil.which(binary) or next(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}"), None)
    if found is None:
        raise SystemExit(f"--database postgres needs PostgreSQL's {binary} (Debian package postgresql)")
    return str(found)


@contextmanager
def postgres_server(folder: Path) -> Iterator[Pids]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    data = folder / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        folder.chmod(0o755)  # the postgres user must reach its folder inside
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run = lambda *command: subprocess.run(_as_postgres(list(command)), check=True,  # noqa: E731
                                          capture_output=True, text=True)
    run(_pg("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    run(_pg("pg_ctl"), "-D", str(data), "-w", "-l", str(data / "server.log"), "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start")
    try:
        run(_pg("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect")
        home = folder / "prefect-home"
        home.mkdir()
        started: list[int] = []
        database = {"PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect"}
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        pids = lambda: [*started, postmaster]  # noqa: E731

        with prefect_server(home, env=database, started=started) as url, \
                temporary_settings(updates={PREFECT_API_URL: url}):
            yield pids
    finally:
        run(_pg("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop")

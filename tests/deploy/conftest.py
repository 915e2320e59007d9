"""Deployment tests: one real Prefect server for the session (started and stopped here), the
examples deployed to it with `flowscript deploy` and run by `flowscript serve`, and work
pools whose workers are real `prefect worker start` processes (workers.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect_server import prefect_server, stop_group

REPO = Path(__file__).resolve().parents[2]
FLOWSCRIPT = Path(sys.executable).parent / "flowscript"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class Served:
    api_url: str
    folder: Path  # the deployed copy of flows/examples

    def env(self) -> dict[str, str]:
        return {**os.environ, "PREFECT_API_URL": self.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(FLOWSCRIPT), *args], cwd=self.folder, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


@dataclass(frozen=True)
class Server:
    api_url: str
    home: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh `prefect server start` for the session's deployment tests."""
    home = tmp_path_factory.mktemp("prefect-home")
    with prefect_server(home) as url:
        yield Server(url, home)


@pytest.fixture(scope="session")
def served(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The examples deployed on the server and served by `flowscript serve` in a subprocess."""
    folder = tmp_path_factory.mktemp("deployed") / "examples"
    shutil.copytree(REPO / "flows" / "examples", folder)
    served = Served(server.api_url, folder)
    deployed = served.cli("deploy", ".")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    log = open(server.home / "serve.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen([str(FLOWSCRIPT), "serve", "."], cwd=folder, env=served.env(), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(3)
    try:
        yield served
    finally:
        stop_group(process, signal.SIGINT, grace=30)
        log.close()


@pytest.fixture
async def client(served: Served):
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api=served.api_url) as api_client:
        yield api_client


@pytest.fixture
async def api(server: Server):
    """A client of the session's server."""
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api=server.api_url) as api_client:
        yield api_client

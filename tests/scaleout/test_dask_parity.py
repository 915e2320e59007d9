"""The parity suite's examples with `--task-runner dask`: each example run on the local
backend and through Prefect with its node executions on Dask workers (a LocalCluster of two
worker processes, and the external cluster) must leave the same things behind
(tests/parity/parity_support.py says what is compared). The examples' API is a real server
on 127.0.0.1:8765, their default base URL, since the requests come from the workers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_support import Cluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))
from example_world import AI_KEY, DEFAULT_BASE, EXAMPLES, USERS_TOKEN, FakeApi, FakeApiServer
from parity_support import assert_same, run_local, run_prefect

from flowscript.prefect_backend.task_runners import TaskRunnerChoice

pytestmark = pytest.mark.slow
NAMES = sorted(p.name.removesuffix(".flow.md") for p in EXAMPLES.glob("*.flow.md"))
CONCURRENT_STARTS = {"conditional-routing", "enrich-foreach", "parallel-merge", "polling-loops"}
SECRETS = {"OPENROUTER_API_KEY": AI_KEY, "USERS_API_TOKEN": USERS_TOKEN}
ENV = {"FLOWSCRIPT_AI_BASE_URL": f"{DEFAULT_BASE}/v1", **SECRETS}


@pytest.fixture(scope="module")
def served() -> Iterator[FakeApiServer]:
    with FakeApiServer(FakeApi(), port=int(DEFAULT_BASE.rsplit(":", 1)[1])) as server:
        yield server


def _requests(api: FakeApi) -> list[tuple]:
    return sorted((r.method, r.path, sorted(r.query.items()), repr(r.body),
                   sorted((k, v) for k, v in r.headers.items() if k not in ("content-length", "user-agent")))
                  for r in api.requests)


async def _compare(name: str, served: FakeApiServer, tmp_path: Path, runner: TaskRunnerChoice) -> None:
    import shutil

    folders = {}
    for label in ("local", "dask"):
        folders[label] = tmp_path / label
        shutil.copytree(EXAMPLES, folders[label], ignore=shutil.ignore_patterns("out", ".flowscript-state", ".state"))
    served.api = FakeApi()
    local = await run_local(folders["local"] / f"{name}.flow.md", env=ENV)
    local_requests = _requests(served.api)
    served.api = FakeApi()
    dask = await run_prefect(folders["dask"] / f"{name}.flow.md", env=ENV, runner=runner)
    assert local.status == "completed", local.failure
    assert_same(local, dask, concurrent_starts=name in CONCURRENT_STARTS)
    assert _requests(served.api) == local_requests


@pytest.mark.parametrize("name", NAMES)
async def test_example_on_a_local_cluster(name, served, tmp_path, monkeypatch):
    for key, value in ENV.items():  # the cluster's worker processes start with the flow's environment
        monkeypatch.setenv(key, value)
    await _compare(name, served, tmp_path, TaskRunnerChoice.of("dask", dask_workers=2))


@pytest.mark.parametrize("name", NAMES)
async def test_example_on_an_external_cluster(name, served, tmp_path, dask_cluster: Cluster, secret_blocks):
    await _compare(name, served, tmp_path, TaskRunnerChoice.of("dask", dask_cluster.address))


@pytest.fixture(scope="module")
def secret_blocks(prefect_api) -> Iterator[None]:
    """The external workers have none of the test's environment: the secrets reach them as
    Prefect Secret blocks, as on another machine."""
    import asyncio

    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client

    from flowscript.prefect_backend.secrets import block_name

    for secret, value in SECRETS.items():
        Secret(value=value).save(block_name(secret), overwrite=True)
    yield

    async def delete() -> None:
        async with get_client() as client:
            for secret in SECRETS:
                document = await client.read_block_document_by_name(block_name(secret), "secret")
                await client.delete_block_document(document.id)

    asyncio.run(delete())

"""The flow-run graph with `--task-runner dask`: the same edges as with the thread runner,
though the task runs ran in the workers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dask_support import Cluster
from loopback import CountingServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "prefect"))
from graph_support import check_graph, check_nesting, copy_examples

from flowscript.prefect_backend.task_runners import TaskRunnerChoice

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(prefect_api):
    from prefect.client.orchestration import get_client

    async with get_client() as api_client:
        yield api_client


async def test_each_task_run_records_its_nodes_dependencies(tmp_path, client, dask_cluster: Cluster):
    await check_graph(client, copy_examples(tmp_path / "examples"), TaskRunnerChoice.of("dask", dask_cluster.address))


async def test_executions_inside_a_control_node_hang_under_it(tmp_path, client, dask_cluster: Cluster):
    rates = {f"/rates/{region}": {"rate": 1} for region in ("eu", "us", "apac")}
    with CountingServer(rates) as server:
        await check_nesting(client, copy_examples(tmp_path / "examples"),
                            TaskRunnerChoice.of("dask", dask_cluster.address), server.url)

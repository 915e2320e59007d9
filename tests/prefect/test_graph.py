"""The flow-run graph draws the workflow (thread runner): each task run records the task
runs of its node's dependencies, and a control node's executions hang under it."""

from __future__ import annotations

from graph_support import check_graph, check_nesting, copy_examples
from loopback import CountingServer

from flowscript.prefect_backend.task_runners import TaskRunnerChoice


async def test_each_task_run_records_its_nodes_dependencies(tmp_path, client):
    await check_graph(client, copy_examples(tmp_path / "examples"), TaskRunnerChoice())


async def test_executions_inside_a_control_node_hang_under_it(tmp_path, client):
    rates = {f"/rates/{region}": {"rate": 1} for region in ("eu", "us", "apac")}
    with CountingServer(rates) as server:
        await check_nesting(client, copy_examples(tmp_path / "examples"), TaskRunnerChoice(), server.url)

"""`--task-runner dask`: node executions leave the flow's process as values and run in Dask
workers, through prefect-dask's task runner; chunks of a large foreach too. The flow's
process keeps the state file, the journal and the log (docs/prefect.md#scaling-out)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
from dask_support import Cluster, SenderServer

from flowscript.prefect_backend.task_runners import TaskRunnerChoice

pytestmark = pytest.mark.slow
FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
# Functions of this module run in the workers: by value (pickle passes a module-level function
# by name, so a lambda around it takes it to cloudpickle).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPREAD = """---
name: spread
version: 1.0.0
config:
  base_url: {type: string}
---
<workflow>
  <foreach id="few" collection="range(0, 4)" concurrency="2">
    <source id="ping" type="http" url="{{$config.base_url}}/few"/>
  </foreach>
  <foreach id="many" collection="range(0, 130)" concurrency="4">
    <source id="hit" type="http" url="{{$config.base_url}}/many"/>
    <transform id="line" type="template"><template>{{item}}:{{hit.output.ok}}</template></transform>
  </foreach>
  <sink id="save" type="file" input="many" path="out/many.json"/>
</workflow>
"""


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spread.flow.md"
    path.write_text(SPREAD)
    return path


def _check_outputs(folder: Path) -> None:
    assert json.loads((folder / "out" / "many.json").read_text()) == [f"{i}:true" for i in range(130)]
    [state_file] = (folder / ".flowscript-state" / "spread").glob("*.json")
    state = json.loads(state_file.read_text())  # the flow's process wrote every result, chunks' included
    assert state["status"] == "completed"
    assert state["nodeResults"]["many[129].line"]["output"] == "129:true"
    assert state["nodeResults"]["many"]["meta"] == {"items": 130, "iterations": 130, "chunkSize": 100}


def test_a_local_cluster_runs_the_executions_in_its_worker_processes(tmp_path, prefect_api):
    path = _write(tmp_path / "run")
    with SenderServer({"/few": {"ok": True}, "/many": {"ok": True}}) as server:
        done = subprocess.Popen([str(FLOWSCRIPT), "run", path.name, "-c", f"base_url={server.url}",
                                 "--task-runner", "dask", "--no-log"], cwd=path.parent, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **prefect_api.env(), "FLOWSCRIPT_DASK_WORKERS": "2"})
        out, err = done.communicate(timeout=300)
        assert done.returncode == 0, out + err
        assert server.received["/few"] == 4 and server.received["/many"] == 130
        senders = set(server.senders)
    assert done.pid not in senders and -1 not in senders  # not one request came from the flow's process
    assert 1 <= len(senders) <= 2  # the cluster's worker processes
    _check_outputs(path.parent)


async def test_an_external_cluster_runs_the_executions_in_its_workers(tmp_path, prefect_api,
                                                                      dask_cluster: Cluster):
    from prefect_support import run_on_prefect

    path = _write(tmp_path / "run")
    before = dask_cluster.executed()
    with SenderServer({"/few": {"ok": True}, "/many": {"ok": True}}) as server:
        outcome = await run_on_prefect(path, config={"base_url": server.url}, state_dir=path.parent / ".flowscript-state",
                                       runner=TaskRunnerChoice.of("dask", dask_cluster.address))
        assert outcome.status == "completed", outcome.failure
        senders = set(server.senders)
    assert senders <= dask_cluster.worker_pids() and os.getpid() not in senders
    # 4 nested executions, 2 chunks of iterations (100 + 30, at once), the sink: all in the workers
    assert dask_cluster.executed() - before >= 4 + 2 + 1
    _check_outputs(path.parent)


def _enter_a_copy_of_a_temporary_clusters_runner() -> bool:
    from flowscript.prefect_backend.dask_runner import FlowDaskTaskRunner

    runner = FlowDaskTaskRunner().duplicate()
    with runner:
        return runner._client is None


def test_the_runner_a_worker_enters_around_each_task_stays_idle(dask_cluster: Cluster):
    """Prefect enters a copy of the flow's task runner around every task a worker runs. The copy
    of a temporary cluster's runner connected a Dask client of its own and registered the console
    plugin on every worker, for each task."""
    from distributed import Client

    with Client(dask_cluster.address, timeout=30) as client:
        idle = client.submit(lambda: _enter_a_copy_of_a_temporary_clusters_runner(), pure=False).result(timeout=60)
    assert idle is True


def _log_as_dask_does() -> None:
    """In a worker: what Dask logs when a heartbeat meets a closed connection, and another error."""
    import logging

    from distributed.comm.core import CommClosedError

    logger = logging.getLogger("distributed.worker")
    try:
        raise CommClosedError("in <TCP (closed) ConnectionPool.heartbeat_worker>: Stream is closed")
    except CommClosedError:
        logger.exception("Failed to communicate with scheduler during heartbeat.")
    logger.error("a worker's own trouble still shows")


def test_a_temporary_clusters_workers_keep_losing_the_scheduler_off_the_terminal(capfd):
    """The scheduler of a temporary cluster lives in the command's process: a worker's heartbeat
    in flight as the cluster closes failed once in ~50 runs of the torture, printing a traceback
    on the terminal of a run that succeeded. The command's terminal is the workers' stderr."""
    with TaskRunnerChoice.of("dask", dask_workers=1).task_runner() as runner:
        pids = runner.client.run(os.getpid)
        runner.client.run(lambda: _log_as_dask_does())
    assert os.getpid() not in pids.values()
    err = capfd.readouterr().err
    assert "a worker's own trouble still shows" in err
    assert "heartbeat" not in err and "Traceback" not in err


def _settings_seen(_: int) -> tuple[int, int, bool]:
    """In a worker: its process, the flow's setting as the task sees it, and whether the task's
    settings are the ones the worker built once for the flow's."""
    from prefect.context import SettingsContext

    from flowscript.prefect_backend import dask_runner

    current = SettingsContext.get().settings
    return os.getpid(), current.client.max_retries, any(c.settings is current for c in dask_runner._BUILT.values())


def test_the_flows_settings_reach_the_workers_built_once_per_worker(prefect_api, dask_cluster: Cluster):
    """What Prefect's own submit does (the flow's settings travel with every task), done once: a
    worker builds the flow's settings the first time and runs every later task inside them; a
    flow run under other settings gets its own."""
    from prefect import flow, task
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    from flowscript.prefect_backend.dask_runner import FlowDaskTaskRunner

    seen = task(lambda i: _settings_seen(i), name="seen")

    @flow(task_runner=FlowDaskTaskRunner(address=dask_cluster.address))
    def spread() -> list[tuple[int, int, bool]]:
        return [future.result() for future in seen.map(range(8))]

    for retries in (7, 3):
        with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: retries}):
            answers = spread()
        assert {pid for pid, _, _ in answers} <= dask_cluster.worker_pids()
        assert [(seen_retries, built) for _, seen_retries, built in answers] == [(retries, True)] * 8



async def _clients_seen(_: int) -> tuple[int, int, int, bool]:
    """In a worker: its process, and the async and sync Prefect clients the task run works with."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    flow_run = FlowRunContext.get()
    assert flow_run is not None
    client = get_client()
    return os.getpid(), id(client), id(flow_run.client), client.loop is asyncio.get_running_loop()


def test_a_workers_tasks_share_its_prefect_clients(prefect_api, dask_cluster: Cluster):
    """A worker thread opens its Prefect clients once for the flow's settings and every later task
    works with them (on the thread's event loop), instead of two new clients per task."""
    from prefect import flow, task

    from flowscript.prefect_backend.dask_runner import FlowDaskTaskRunner

    seen = task(_clients_seen, name="clients")

    @flow(task_runner=FlowDaskTaskRunner(address=dask_cluster.address))
    def spread() -> list[tuple[int, int, int, bool]]:
        return [future.result() for future in seen.map(range(8))]

    answers = spread() + spread()
    by_worker: dict[int, set[tuple[int, int]]] = {}
    for pid, client, sync_client, on_its_loop in answers:
        assert on_its_loop
        by_worker.setdefault(pid, set()).add((client, sync_client))
    assert set(by_worker) <= dask_cluster.worker_pids()
    assert all(len(clients) == 1 for clients in by_worker.values()), by_worker  # single-threaded workers

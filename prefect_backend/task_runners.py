"""Which Prefect task runner carries a flow run's node executions (docs/prefect.md#scaling-out).

- `thread` (the default): Prefect's thread-pool runner, except that an async task (every
  node execution is one) runs on the flow's own event loop, in the asyncio task that awaits
  its future, as Prefect runs an async task that is called rather than submitted. Prefect's
  pool runs each submitted async task under a new event loop in a pool thread, with an API
  client of its own: about 60 ms a task on a 2-core machine against 8 ms on the flow's loop,
  for no gain (the work is I/O, or holds the GIL either way).
- `dask`: prefect-dask's DaskTaskRunner: the cluster at `address`, or a temporary
  LocalCluster of worker processes (one thread each) when none is given.

The choice travels with a deployment as two environment variables of its runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from prefect.futures import PrefectConcurrentFuture, PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flowscript.errors import ValidationError

RUNNER_ENV = "FLOWSCRIPT_TASK_RUNNER"
DASK_ADDRESS_ENV = "FLOWSCRIPT_DASK_ADDRESS"
DASK_WORKERS_ENV = "FLOWSCRIPT_DASK_WORKERS"
RunnerKind = Literal["thread", "dask"]


@dataclass(frozen=True, slots=True)
class TaskRunnerChoice:
    kind: RunnerKind = "thread"
    dask_address: str | None = None  # None with dask: a temporary LocalCluster
    dask_workers: int | None = None  # the LocalCluster's worker processes (None: one per core)

    @classmethod
    def of(cls, kind: str, dask_address: str | None = None, dask_workers: int | None = None) -> TaskRunnerChoice:
        if kind not in ("thread", "dask"):
            raise ValidationError(f"unknown task runner '{kind}'", code="VALID_INVALID_FIELD_TYPE",
                                  hint="--task-runner thread (the default) or dask")
        if dask_address and kind != "dask":
            raise ValidationError("--dask-address goes with --task-runner dask", code="VALID_INVALID_FIELD_TYPE",
                                  hint="add --task-runner dask, or leave the address out")
        if dask_workers is not None and dask_workers < 1:
            raise ValidationError("a Dask cluster needs at least one worker", code="VALID_INVALID_FIELD_TYPE")
        return cls("dask" if kind == "dask" else "thread", dask_address or None, dask_workers)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TaskRunnerChoice:
        workers = env.get(DASK_WORKERS_ENV, "").strip()
        if workers and not workers.isdigit():
            raise ValidationError(f"{DASK_WORKERS_ENV} must be a whole number, got {workers!r}",
                                  code="VALID_INVALID_FIELD_TYPE")
        return cls.of(env.get(RUNNER_ENV, "").strip() or "thread", env.get(DASK_ADDRESS_ENV, "").strip() or None,
                      int(workers) if workers else None)

    def env(self) -> dict[str, str]:
        """What a deployment's runs need in their environment to make the same choice."""
        if self.kind == "thread":
            return {}
        found = {RUNNER_ENV: "dask"}
        if self.dask_address:
            found[DASK_ADDRESS_ENV] = self.dask_address
        if self.dask_workers:
            found[DASK_WORKERS_ENV] = str(self.dask_workers)
        return found

    def task_runner(self) -> TaskRunner[Any]:
        if self.kind == "thread":
            return LoopTaskRunner()
        try:
            from flowscript.prefect_backend.dask_runner import FlowDaskTaskRunner
        except ImportError:
            raise ValidationError("--task-runner dask needs prefect-dask and distributed",
                                  code="VALID_INVALID_FIELD_TYPE",
                                  hint="pip install 'flowscript[dask]'") from None
        if self.dask_address:
            return FlowDaskTaskRunner(address=self.dask_address)
        cluster: dict[str, Any] = {"processes": True, "threads_per_worker": 1, "dashboard_address": ":0"}
        if self.dask_workers:
            cluster["n_workers"] = self.dask_workers
        return FlowDaskTaskRunner(cluster_kwargs=cluster)


def choice_from(environ: Mapping[str, str] | None = None) -> TaskRunnerChoice:
    return TaskRunnerChoice.from_env(os.environ if environ is None else environ)


async def run_in_flow(task: Any, parameters: dict[str, Any], dependencies: dict[str, set[Any]] | None = None,
                      task_run_id: uuid.UUID | None = None) -> Any:
    """One task run on the flow's event loop, as Prefect runs a called async task, with the task
    runs it depends on recorded as its inputs; returns its final state."""
    from prefect.task_engine import run_task_async

    return await run_task_async(task=task, task_run_id=task_run_id or uuid.uuid4(), parameters=parameters,
                                return_type="state", dependencies=dependencies)


class LoopFuture(PrefectConcurrentFuture[Any]):
    """A task run on the flow's event loop. The task that awaits it (`outcome`) runs it in
    place, as Prefect runs a called async task: an asyncio task of its own would cost the loop
    two more turns a task run, each a moment when Prefect's busy threads take the GIL (a chain
    of 50 nodes: about 15 ms a run). Anything else that waits for it (`wait`, `result`, a
    callback) starts it as an asyncio task of its own, so it behaves as Prefect's futures do."""

    def __init__(self, task_run_id: uuid.UUID, loop: asyncio.AbstractEventLoop,
                 call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        super().__init__(task_run_id=task_run_id, wrapped_future=concurrent.futures.Future())
        self._loop = loop
        self._call: Callable[[], Coroutine[Any, Any, Any]] | None = call
        self._taking = threading.Lock()
        self.running: asyncio.Task[Any] | None = None  # when started on its own

    def _take(self) -> Callable[[], Coroutine[Any, Any, Any]] | None:
        with self._taking:
            call, self._call = self._call, None
        return call

    async def outcome(self) -> Any:
        """The task run's final state, run in the awaiting task (cancelling that cancels it)."""
        call = self._take()
        if call is None:  # started on its own: awaited, not cancelled with this caller
            return await asyncio.shield(asyncio.wrap_future(self._wrapped_future))
        done = self._wrapped_future
        try:
            state = await call()
        except asyncio.CancelledError:
            done.cancel()
            raise
        except BaseException as error:
            done.set_exception(error)
            raise
        done.set_result(state)
        return state

    def _start(self) -> None:
        call = self._take()
        if call is None:
            return

        def start() -> None:
            self.running = self._loop.create_task(call())
            self.running.add_done_callback(self._settle)

        try:
            here = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            here = False
        if here:
            start()
        else:
            self._loop.call_soon_threadsafe(start)

    def _settle(self, finished: asyncio.Task[Any]) -> None:
        done = self._wrapped_future
        if finished.cancelled():
            done.cancel()
        elif finished.exception() is not None:
            done.set_exception(finished.exception())
        else:
            done.set_result(finished.result())

    def wait(self, timeout: float | None = None) -> None:
        self._start()
        super().wait(timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        self._start()
        return super().result(timeout, raise_on_failure)

    def add_done_callback(self, fn: Callable[[PrefectFuture[Any]], None]) -> None:
        self._start()
        super().add_done_callback(fn)

    def _add_prefect_done_callback(self, fn: Callable[[PrefectFuture[Any]], None]) -> None:
        self._start()
        super()._add_prefect_done_callback(fn)


class LoopTaskRunner(ThreadPoolTaskRunner[Any]):
    """Prefect's thread-pool runner whose async tasks run on the flow's event loop."""

    def duplicate(self) -> LoopTaskRunner:
        return type(self)(max_workers=self._max_workers)

    def submit(self, task: Any, parameters: dict[str, Any], wait_for: Iterable[PrefectFuture[Any]] | None = None,
               dependencies: dict[str, set[Any]] | None = None) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if not task.isasync or loop is None or wait_for:
            return super().submit(task, parameters, wait_for, dependencies)
        task_run_id = uuid.uuid4()
        return LoopFuture(task_run_id, loop, lambda: run_in_flow(task, parameters, dependencies, task_run_id))

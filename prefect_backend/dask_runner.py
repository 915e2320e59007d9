"""prefect-dask's task runner, with the workers of a temporary LocalCluster told the flow run's
Prefect API, the flow's settings serialized once per run and hydrated once per worker, and a
worker thread's event loop and Prefect clients kept across its tasks.
Imported only for `--task-runner dask` (it imports Dask)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import distributed
from distributed import WorkerPlugin, get_worker
from distributed.comm.core import CommClosedError
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.context import AsyncClientContext, SettingsContext, SyncClientContext, serialize_context
from prefect.task_engine import run_task_async, run_task_sync
from prefect.utilities.engine import collect_task_run_inputs_sync
from prefect_dask import DaskTaskRunner
from prefect_dask.task_runners import PrefectDaskFuture
from pydantic import PrivateAttr

from flowscript.prefect_backend.console import quiet_console
from flowscript.prefect_backend.tag_limits import prime_no_limits


class FlowDaskTaskRunner(DaskTaskRunner):
    """A worker process reports its task runs' logs and events under its own settings: with no
    API to name (the flow's may be a temporary one it started) it would start an API of its own."""

    def __enter__(self) -> Any:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        if url and not self.address:
            env = {**self.cluster_kwargs.get("env", {}), "PREFECT_API_URL": url}
            self.cluster_kwargs = {**self.cluster_kwargs, "env": env}
        self._primed = False
        entered = super().__enter__()
        # A temporary cluster's workers print on this command's terminal. (Prefect also enters
        # a copy of the flow's runner around every task a worker runs: there it stays idle.)
        if not self.address and not _in_worker():
            self.client.register_plugin(QuietConsole())
            SchedulerLossOffTheTerminal.install()  # the workers' nannies live in this process
        return entered

    def submit(self, task: Any, parameters: dict[str, Any], wait_for: Iterable[Any] | None = None,
               dependencies: dict[str, set[Any]] | None = None) -> Any:
        """prefect-dask's submit (its runner's and its client's), with the flow's settings in the
        task's context serialized once per settings and rebuilt once per worker process: Prefect
        dumps the whole settings model for every task (15 ms on the flow's event loop) and a
        worker validates it again from every source it reads (22 ms), a third of what a node
        execution on a cluster costs beyond its work. Everything else travels as before."""
        if not self._started:
            raise RuntimeError("The task runner must be started before submitting work.")
        parameters = self._optimize_futures(parameters)
        wait_for = self._optimize_futures(wait_for) if wait_for else None
        task_run_id = uuid.uuid4()
        inputs = {k: collect_task_run_inputs_sync(v, future_cls=distributed.Future) for k, v in parameters.items()}
        if dependencies:
            inputs = {k: v.union(dependencies.get(k, set())) for k, v in inputs.items()}
        current = SettingsContext.get()
        assert current is not None, "Prefect's global settings context stands in for none"
        settings = _serialized_once(current)
        with settings.model_copy():  # serialize_context reads the settings from here
            context = serialize_context(asset_ctx_kwargs={"task": task, "task_run_id": task_run_id,
                                                          "task_inputs": inputs, "copy_to_child_ctx": True})
        future = distributed.Client.submit(  # the plain submit: the callable is ours, not the task
            self.client, _run_in_worker, key=f"{task.name}-{task_run_id.hex}", pure=False, task=task,
            task_run_id=task_run_id, parameters=parameters, wait_for=wait_for, return_type="state",
            dependencies=inputs, context={**context, "settings_context": {}}, settings_token=settings.token,
            serialized_settings=context["settings_context"])
        return PrefectDaskFuture[Any](wrapped_future=future, task_run_id=task_run_id)

    def prime_workers(self, tag_sets: list[frozenset[str]]) -> None:
        """Once per run: every worker primes Prefect's no-limit cache for these tag sets."""
        if not self._primed:
            self._primed = True
            self.client.register_plugin(NoTagLimits(tag_sets))


def _in_worker() -> bool:
    try:
        get_worker()
    except ValueError:
        return False
    return True


class QuietConsole(WorkerPlugin):
    """A worker of a temporary cluster shows on the terminal what the flow's process shows
    (prefect_backend/console.py): a node's failure is the command's to report, not a traceback;
    nor does it show losing its scheduler (`SchedulerLossOffTheTerminal`)."""

    name = "flowscript-quiet-console"

    def setup(self, worker: Any) -> None:
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # the console handler a task would set up later, filtered from the start
        quiet_console()
        SchedulerLossOffTheTerminal.install()


class SchedulerLossOffTheTerminal(logging.Filter):
    """A temporary cluster's scheduler lives in the command's own process, so a worker loses it
    only as the command ends: as the cluster closes (a heartbeat in flight when the scheduler
    drops the worker's connection: "Failed to communicate with scheduler during heartbeat", with
    a traceback, on a run that succeeded) or when the command was killed. Dask's records of a
    closed connection stay off the terminal; its other warnings and errors still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.name.startswith("distributed") and isinstance(error, CommClosedError | ConnectionError))

    @classmethod
    def install(cls) -> None:
        """On the handlers Dask writes its records to (its logging setup puts them on `distributed`)."""
        for handler in logging.getLogger("distributed").handlers:
            if not any(isinstance(f, cls) for f in handler.filters):
                handler.addFilter(cls())


class NoTagLimits(WorkerPlugin):
    """Tells each worker's Prefect, as a task starts, that this run's tag sets have no
    concurrency limit (those that have one are left out): the flow's process does the same for
    its own task runs (tag_limits.py), sparing a per-task-run ask that a SQLite API often
    answers 503, which Prefect's client retries 2 s later."""

    name = "flowscript-tag-limits"

    def __init__(self, tag_sets: list[frozenset[str]]) -> None:
        self.tag_sets = tag_sets

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing":
            prime_no_limits(self.tag_sets)


class _SerializedOnce(SettingsContext):
    """The flow's settings context, serialized once, under a token that names it to the workers."""

    _serialized: dict[str, Any] = PrivateAttr(default_factory=dict)
    _name: str = PrivateAttr(default="")

    @classmethod
    def of(cls, context: SettingsContext) -> _SerializedOnce:
        once = cls(profile=context.profile, settings=context.settings)
        once._serialized, once._name = context.serialize(), uuid.uuid4().hex
        return once

    @property
    def token(self) -> str:
        return self._name

    def serialize(self, include_secrets: bool = True) -> dict[str, Any]:
        return self._serialized if include_secrets else super().serialize(include_secrets=False)


_SENT: OrderedDict[int, tuple[SettingsContext, _SerializedOnce]] = OrderedDict()  # by id of the flow's context
_BUILT: OrderedDict[str, SettingsContext] = OrderedDict()  # in a worker: by token, the flow's settings rebuilt
_LOCK = threading.Lock()
_KEPT = 8  # settings contexts kept in each cache (a process serves a few flows' settings at most)

K = TypeVar("K")
V = TypeVar("V")


def _latest(cache: OrderedDict[K, V], key: K, make: Callable[[], V], fresh: Callable[[V], bool]) -> V:
    """The cached value of `key` (made when missing or stale); the cache keeps the latest few."""
    with _LOCK:
        found = cache.get(key)
        if found is None or not fresh(found):
            found = cache[key] = make()
        cache.move_to_end(key)
        while len(cache) > _KEPT:
            cache.popitem(last=False)
        return found


def _serialized_once(context: SettingsContext) -> _SerializedOnce:
    return _latest(_SENT, id(context), lambda: (context, _SerializedOnce.of(context)),
                   lambda kept: kept[0] is context)[1]


def _run_in_worker(*, task: Any, settings_token: str, serialized_settings: dict[str, Any], **run: Any) -> Any:
    """A task run in a worker, as prefect-dask runs one, inside the flow's settings (built from
    what the flow sent the first time this worker sees them, reused after) and with this
    thread's clients for them."""
    context = _latest(_BUILT, settings_token, lambda: SettingsContext(**serialized_settings), lambda _: True)
    with context.model_copy():
        clients = _ThreadClients.here().of(settings_token)
        with SyncClientContext.model_construct(client=clients.sync):  # a context over the kept client
            if task.isasync:
                return clients.loop.run_until_complete(_with_async_client(clients.client, task, run))
            return run_task_sync(task=task, **run)


async def _with_async_client(client: PrefectClient, task: Any, run: dict[str, Any]) -> Any:
    async with AsyncClientContext.model_construct(client=client):  # Prefect's engine takes it up
        return await run_task_async(task=task, **run)


class _Clients:
    """A worker thread's Prefect clients for one flow's settings, opened once."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.client: PrefectClient = get_client()
        self.sync: SyncPrefectClient = get_client(sync_client=True)
        loop.run_until_complete(self.client.__aenter__())  # on the loop its tasks run on, for good
        self.sync.__enter__()

    def close(self) -> None:
        self.sync.__exit__(None, None, None)
        self.loop.run_until_complete(self.client.__aexit__(None, None, None))


class _ThreadClients(threading.local):
    """What a worker thread keeps across its tasks. prefect-dask runs each task on a new event
    loop, where Prefect's engine makes two new clients (an async one for the task run, a sync one
    for the flow run's context): 40-100 ms a task, most of it loading the CA bundle for each
    client's TLS context, before any work. A thread's tasks run one after another on its loop,
    so they can share it and its clients (Prefect's clients are re-entrant: a task's context
    enters them again and leaves them open)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.by_token: OrderedDict[str, _Clients] = OrderedDict()

    @classmethod
    def here(cls) -> _ThreadClients:
        return _THREAD

    def of(self, token: str) -> _Clients:
        """This thread's clients for the settings named `token` (made inside them)."""
        clients = self.by_token.get(token)
        if clients is None:
            clients = self.by_token[token] = _Clients(self.loop)
            while len(self.by_token) > _KEPT:
                self.by_token.popitem(last=False)[1].close()
        self.by_token.move_to_end(token)
        return clients


_THREAD = _ThreadClients()

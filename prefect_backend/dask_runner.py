"""prefect-dask's task runner, with the workers of a temporary LocalCluster told the flow run's
Prefect API, and the flow's settings serialized once per run and hydrated once per worker.
Imported only for `--task-runner dask` (it imports Dask)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import distributed
from distributed import WorkerPlugin, get_worker
from prefect.context import SettingsContext, serialize_context
from prefect.task_engine import run_task_async, run_task_sync
from prefect.utilities.engine import collect_task_run_inputs_sync
from prefect_dask import DaskTaskRunner
from prefect_dask.task_runners import PrefectDaskFuture

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
        settings = _settings_once(current)
        with settings.context.model_copy():  # serialize_context reads the settings from here
            context = serialize_context(asset_ctx_kwargs={"task": task, "task_run_id": task_run_id,
                                                          "task_inputs": inputs, "copy_to_child_ctx": True})
        future = distributed.Client.submit(  # the plain submit: the callable is ours, not the task
            self.client, _run_in_worker, key=f"{task.name}-{task_run_id.hex}", pure=False, task=task,
            task_run_id=task_run_id, parameters=parameters, wait_for=wait_for, return_type="state",
            dependencies=inputs, context={**context, "settings_context": {}}, settings=settings.token,
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
    (prefect_backend/console.py): a node's failure is the command's to report, not a traceback."""

    name = "flowscript-quiet-console"

    def setup(self, worker: Any) -> None:
        from prefect.logging.configuration import ensure_logging_setup

        ensure_logging_setup()  # the console handler a task would set up later, filtered from the start
        quiet_console()


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


class _Serialized:
    """A settings context and its serialized form, under a token that names it to the workers."""

    def __init__(self, context: SettingsContext) -> None:
        self.source = context
        self.token = uuid.uuid4().hex
        serialized = context.serialize()
        self.context = _SerializedOnce(profile=context.profile, settings=context.settings)
        self.context._serialized = serialized


class _SerializedOnce(SettingsContext):
    """The flow's settings context, whose serialized form is made once."""

    _serialized: dict[str, Any] | None = None

    def serialize(self, include_secrets: bool = True) -> dict[str, Any]:
        if self._serialized is not None and include_secrets:
            return self._serialized
        return super().serialize(include_secrets=include_secrets)


_SENT: OrderedDict[int, _Serialized] = OrderedDict()  # id of a settings context -> its serialized form (latest few)
_BUILT: OrderedDict[str, SettingsContext] = OrderedDict()  # in a worker: token -> the settings context made of it
_LOCK = threading.Lock()


def _settings_once(context: SettingsContext) -> _Serialized:
    with _LOCK:
        found = _SENT.get(id(context))
        if found is None or found.source is not context:
            found = _SENT[id(context)] = _Serialized(context)
            while len(_SENT) > 8:
                _SENT.popitem(last=False)
        _SENT.move_to_end(id(context))
        return found


def _run_in_worker(*, task: Any, settings: str, serialized_settings: dict[str, Any], **run: Any) -> Any:
    """A task run in a worker, as prefect-dask runs one, inside the flow's settings: built from
    what the flow sent the first time this worker sees them, reused after."""
    with _LOCK:
        context = _BUILT.get(settings)
        if context is None:
            context = _BUILT[settings] = SettingsContext(**serialized_settings)
            while len(_BUILT) > 8:
                _BUILT.popitem(last=False)
    with context.model_copy():
        if task.isasync:
            return asyncio.run(run_task_async(task=task, **run))
        return run_task_sync(task=task, **run)

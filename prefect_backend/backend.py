"""PrefectBackend: how the engine's node executions become Prefect task runs.

Every node execution (nested ones too) is a task run named after the node, its run name
the result key (`each[3].fmt`) and tagged with the node kind. A data node's execution is
submitted through the flow's task runner as a value (`node_task`, one sealed parameter)
and awaited as a future, so a Dask runner carries it out on a worker; a control node runs
in the flow's process as a task run of its own, under which its body's executions hang.
Each task run records the task runs it depends on (the node's dependencies), so the flow
run's graph draws the workflow. Retries are Prefect task retries (retries.py), the attempt
timeout is `timeout_seconds`, and a fallback runs as a task run of its own without
retries. Above `chunk_threshold` items a foreach runs its iterations in chunk task runs
(`chunk_task`), their node executions inside, so a flow run never holds thousands of task
runs (docs/prefect.md).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRunResult
from prefect.concurrency.asyncio import concurrency
from prefect.context import FlowRunContext, TaskRunContext
from prefect.futures import PrefectFuture
from prefect.states import Cancelled, State

from flowscript.nodes.base import ApprovalDecision, ApprovalRequest, WithMeta
from flowscript.prefect_backend.approvals import ask_in_prefect
from flowscript.prefect_backend.results import RedactedJSONSerializer, ResultKey
from flowscript.prefect_backend.retries import as_node_error, retry_condition
from flowscript.prefect_backend.secrets import from_secret_blocks
from flowscript.prefect_backend.tag_limits import TagLimits
from flowscript.prefect_backend.task_runners import LoopFuture, run_in_flow
from flowscript.runtime.approval import ask_in_terminal
from flowscript.runtime.backend import ChunkDone, ChunkExecution
from flowscript.runtime.chunks import execute_chunk
from flowscript.runtime.execution import NodeExecution, Resources, execute
from flowscript.runtime.secrets import Redactor, read_secrets
from flowscript.signals import BreakSignal, CheckpointRejected, NodeFailed

DEFAULT_CHUNK_THRESHOLD = 100
TAG = "flowscript"  # on every task run, beside the node kind
_HERE: dict[str, Resources] = {}  # run id -> the resources of the flow's process for that run
_CONTROL_RUNS: dict[str, Callable[[], Awaitable[Any]]] = {}  # token -> a control node's execution, while it runs
_REJECTED: dict[str, BaseException] = {}  # token -> the rejection a control node's execution ended with


class Sealed:
    """An execution as one opaque task parameter. Prefect walks a task's parameters for
    futures and links them to results by identity (Dask copies what it finds), and an
    execution's input may hold 100,000 records, none of which is a future."""

    __slots__ = ("execution",)

    def __init__(self, execution: NodeExecution | ChunkExecution) -> None:
        self.execution = execution


async def resources_here(run_id: str, secret_names: tuple[str, ...]) -> tuple[Resources, bool]:
    """The flow process's resources for the run; elsewhere (a Dask worker) the secrets are
    looked up where the execution runs: the environment, then Prefect Secret blocks. The
    flag says whether they were made here (and are to be closed after the execution)."""
    found = _HERE.get(run_id)
    if found is not None:
        return found, False
    env = dict(os.environ)
    secrets = read_secrets(secret_names, env, await from_secret_blocks(secret_names, env))
    return Resources(secrets=secrets, env=env), True


# The tasks' functions keep names of their own, so a task pickles to a Dask worker with its
# function by reference (never by value, with this module's globals).
async def execute_node(key: str, sealed: Sealed) -> dict[str, Any]:
    """One data-node execution, one attempt of it per task-run attempt: plain JSON in and out."""
    execution = sealed.execution
    assert isinstance(execution, NodeExecution)
    resources, made = await resources_here(execution.run_id, execution.secret_names)
    context = TaskRunContext.get()
    attempt = context.task_run.run_count if context is not None else 1
    try:
        answer = await execute(execution, resources)
    except Exception as error:
        Redactor(resources.secrets.values()).error(error)  # Prefect logs, keeps and persists what is raised
        error.attempts = attempt  # type: ignore[attr-defined]
        raise
    finally:
        if made:
            await resources.close()
    return {**answer, "attempts": attempt}


async def run_control_node(key: str, token: str) -> dict[str, Any] | State:
    """A control node's execution, in the flow's process; its body's executions hang under it.
    Its parameters are plain (the execution waits under `token`), because a task run's context,
    parameters included, travels with every task submitted inside it. A `<break/>` inside it
    comes back as data (Prefect would count an exception a failure), and a rejected checkpoint
    inside it ends the task run Cancelled, without a traceback (the engine gets the rejection back)."""
    run = _CONTROL_RUNS[token]
    try:
        output = await run()
    except BreakSignal as signal:
        return {"break": True, "loop": signal.loop_id, "last": signal.last_output}
    except (CheckpointRejected, NodeFailed) as outcome:
        if not isinstance(outcome, CheckpointRejected) and outcome.rejected is None:
            raise
        _REJECTED[token] = outcome  # a rejection is an outcome, not a crash: the task run ends Cancelled,
        return Cancelled(message=str(outcome))  # with no traceback; the engine gets the rejection back
    if isinstance(output, WithMeta):
        return {"output": output.value, "meta": output.meta}
    return {"output": output}


async def execute_iterations(key: str, sealed: Sealed) -> ChunkDone:
    """A chunk of foreach iterations, wherever the task runner runs it; their node executions
    run inside it, not as task runs of their own."""
    chunk = sealed.execution
    assert isinstance(chunk, ChunkExecution)
    resources, made = await resources_here(chunk.run_id, tuple(chunk.plan.workflow.meta.secrets))
    try:
        return await execute_chunk(chunk, resources)
    finally:
        if made:
            await resources.close()


node_task: Task[Any, Any] = task(name="node", persist_result=False)(execute_node)
control_task: Task[Any, Any] = task(name="control", persist_result=False)(run_control_node)
chunk_task: Task[Any, Any] = task(name="iterations", cache_policy=NO_CACHE, persist_result=False)(execute_iterations)


def renamed(prefect_task: Task[Any, Any], name: str, tags: set[str]) -> Task[Any, Any]:
    """A copy of a task under another name and tags. Building a Task (`Task(...)`,
    `with_options`) reads its function's source and hashes its code, about half a millisecond,
    as much as the rest of a task run's work in this process; a copy shares what is the same
    for every node."""
    copied = copy.copy(prefect_task)
    copied.name = name
    copied.tags = set(tags)
    return copied


def _submit(prefect_task: Task[Any, Any], parameters: dict[str, Any],
            dependencies: dict[str, set[Any]] | None) -> PrefectFuture[Any]:
    """`task.submit`, with the task runs this one depends on recorded as its inputs (Prefect's
    runners take them; `Task.submit` does not pass them on)."""
    context = FlowRunContext.get()
    assert context is not None and context.task_runner is not None, "node executions run inside a flow run"
    return context.task_runner.submit(prefect_task, parameters, None, dependencies)


async def settled(future: PrefectFuture[Any]) -> State:
    """A submitted task run's final state, awaited without blocking the flow's event loop."""
    if isinstance(future, LoopFuture):
        return await future.outcome()
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not finished.done():
            finished.set_result(None)

    def done(_: PrefectFuture[Any]) -> None:  # called in the thread that finished the future
        loop.call_soon_threadsafe(wake)

    future.add_done_callback(done)
    try:
        await finished
    except asyncio.CancelledError:
        cancel = getattr(future, "cancel", None) or getattr(getattr(future, "wrapped_future", None), "cancel", None)
        if cancel is not None:
            cancel()
        raise
    def final() -> State:
        future.wait()  # done already: this fetches the state the task run ended with
        return future.state

    return await asyncio.to_thread(final)


@dataclass
class PrefectBackend:
    workflow_id: str
    run_id: str
    secrets: list[str] = field(default_factory=list)
    persist_results: bool = True
    result_storage: Any = None  # a Prefect storage block for the task results (None: Prefect's default)
    chunk_threshold: int = DEFAULT_CHUNK_THRESHOLD
    interactive: bool | None = None
    approvals: Literal["terminal", "prefect"] = "terminal"  # deployed runs ask in the Prefect UI
    shared_limit: str | None = None  # a global concurrency limit every data-node execution takes a slot of
    tag_limits: TagLimits | None = None  # spares Prefect's per-task-run ask for tag limits that do not exist
    kinds: frozenset[str] = frozenset()  # the node kinds of the run's task runs (their tags)
    # Nodes that hold, read or make secret-derived values (compiler/taint.py), or hold such a
    # node: Prefect keeps no result of their task runs (a redactor recognises a secret's text,
    # not what expressions made of it; a retried flow run resumes from the state file instead).
    unkept: frozenset[str] = frozenset()
    name: str = "prefect"

    def __post_init__(self) -> None:
        self._templates: dict[tuple[str, bool], Task[Any, Any]] = {}  # (base task, results kept) -> for this run
        self._tasks: dict[tuple[str, str], Task[Any, Any]] = {}  # (base task, name) -> a node's copy
        self._task_runs: dict[str, UUID] = {}  # execution key (or chunk label) -> its task run, for the graph's edges

    @functools.cached_property
    def _result_options(self) -> dict[str, Any]:
        """This run's result options: kept under the run's cache keys, redacted; or none kept."""
        if not self.persist_results:
            return dict(cache_policy=NO_CACHE)
        keep: dict[str, Any] = dict(persist_result=True, result_serializer=RedactedJSONSerializer.with_secrets(
            self.secrets), cache_key_fn=ResultKey(self.workflow_id, self.run_id))
        if self.result_storage is not None:
            keep["result_storage"] = self.result_storage  # where a retry on another worker finds them
        return keep

    def _for_run(self, base: Task[Any, Any], kept: bool) -> Task[Any, Any]:
        """`base` with its run name taken from the `key` parameter and this run's result options
        (`kept`) or none: built once per run, when first needed (building a Task reads its
        function's source)."""
        made = self._templates.get((base.name, kept))
        if made is None:
            options = self._result_options if kept else dict(cache_policy=NO_CACHE)
            made = self._templates[(base.name, kept)] = base.with_options(task_run_name="{key}", **options)
        return made

    def _named(self, base: Task[Any, Any], name: str, tags: set[str], kept: bool) -> Task[Any, Any]:
        """This run's `base` named and tagged for one node, made once: it serves all the node's executions."""
        made = self._tasks.get((base.name, name))
        if made is None:
            made = self._tasks[(base.name, name)] = renamed(self._for_run(base, kept), name, tags)
        return made

    async def run_node(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        if self.shared_limit is not None:
            async with concurrency(self.shared_limit, occupy=1):
                return await self._node_run(execution, resources)
        return await self._node_run(execution, resources)

    async def _node_run(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        settings = execution.retry
        await self._prime(execution.tag)
        _HERE[execution.run_id] = resources
        future = _submit(self._node_task(execution), {"key": execution.key, "sealed": Sealed(execution)},
                         self._edges("sealed", execution.upstream))
        self._task_runs[execution.key] = future.task_run_id
        state = await settled(future)
        try:
            answer: dict[str, Any] = await state.aresult()
        except Exception as error:
            raise as_node_error(error, settings) from None
        return answer

    async def run_control(self, node_id: str, key: str, tag: str, run: Callable[[], Awaitable[Any]],
                          upstream: tuple[str, ...] = ()) -> Any:
        await self._prime(tag)
        made = self._named(control_task, node_id, {tag, TAG}, kept=node_id not in self.unkept)
        token = uuid.uuid4().hex
        _CONTROL_RUNS[token] = run
        try:
            state: State = await run_in_flow(made, {"key": key, "token": token}, self._edges("token", upstream))
        finally:
            del _CONTROL_RUNS[token]
            rejected = _REJECTED.pop(token, None)
        if rejected is not None:
            raise rejected
        if state.state_details.task_run_id is not None:
            self._task_runs[key] = state.state_details.task_run_id
        answer = await state.aresult()
        if answer.get("break"):
            raise BreakSignal(answer["loop"], answer["last"])
        return WithMeta(answer["output"], answer["meta"]) if "meta" in answer else answer["output"]

    def task_run_ids(self) -> list[UUID]:
        """The task runs of this run's node executions and chunks, in the order they were made."""
        return list(self._task_runs.values())

    def _edges(self, parameter: str, upstream: tuple[str, ...]) -> dict[str, set[Any]] | None:
        """What the task run records as its inputs besides its parameters: the task runs it depends on."""
        runs = {TaskRunResult(id=self._task_runs[key]) for key in upstream if key in self._task_runs}
        return {parameter: runs} if runs else None

    def _node_task(self, execution: NodeExecution) -> Any:
        """node_task named after the node and tagged with its kind; its run name and result key
        come from the `key` parameter, so a node's task serves all its executions. A node with
        retries gets a task per execution, whose retry condition counts that execution's retries."""
        settings, node_id, tag = execution.retry, execution.node.id, execution.tag
        kept = not (execution.secret_derived or node_id in self.unkept)
        if settings is not None:
            return self._for_run(node_task, kept).with_options(
                name=node_id, tags={tag, TAG}, retries=settings.max_retries,
                retry_condition_fn=retry_condition(settings), timeout_seconds=settings.timeout_s)
        return self._named(node_task, node_id, {tag, TAG}, kept)

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        if self.approvals == "prefect":
            return await ask_in_prefect(request)
        return await ask_in_terminal(request, interactive=self.interactive)

    def iteration_chunk_size(self, items: int) -> int | None:
        return None if items <= self.chunk_threshold else self.chunk_threshold

    async def run_chunk(self, chunk: ChunkExecution, resources: Resources) -> ChunkDone:
        await self._prime("foreach")
        _HERE[chunk.run_id] = resources
        made = self._named(chunk_task, f"{chunk.node_id} iterations", {"foreach", TAG}, kept=False)
        future = _submit(made, {"key": chunk.label, "sealed": Sealed(chunk)}, None)
        self._task_runs[chunk.label] = future.task_run_id  # no node's key: never an edge, but a run to wait for
        state = await settled(future)
        done: ChunkDone = await state.aresult()
        return done

    async def _prime(self, kind: str) -> None:
        if self.tag_limits is None:
            return
        await self.tag_limits.prime((kind, TAG))
        context = FlowRunContext.get()
        runner = context.task_runner if context is not None else None
        prime_workers = getattr(runner, "prime_workers", None)
        if prime_workers is not None and not getattr(runner, "_primed", True):  # Dask workers do it there
            free = await self.tag_limits.free_sets([(kind, TAG) for kind in self.kinds])
            await asyncio.to_thread(prime_workers, free)

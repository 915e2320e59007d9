"""PrefectBackend: how the engine's node executions become Prefect task runs.

Every node execution (nested ones too) is a task run named after the node, its run name
the result key (`each[3].fmt`) and tagged with the node kind. Retries are Prefect task
retries (see retries.py), the attempt timeout is `timeout_seconds`, and a fallback runs as
a task run of its own without retries. Above `chunk_threshold` items a foreach runs its
iterations in chunk task runs instead, their node executions inline, so a flow run never
holds thousands of task runs.
"""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.asyncio import concurrency
from prefect.context import TaskRunContext

from flowscript.nodes.base import ApprovalDecision, ApprovalRequest, WithMeta
from flowscript.prefect_backend.approvals import ask_in_prefect
from flowscript.prefect_backend.results import RedactedJSONSerializer, result_key
from flowscript.prefect_backend.retries import as_node_error, retry_condition
from flowscript.prefect_backend.tag_limits import TagLimits
from flowscript.runtime.approval import ask_in_terminal
from flowscript.runtime.execution import NodeExecution, Resources, execute
from flowscript.runtime.local_backend import run_with_retries
from flowscript.runtime.secrets import Redactor
from flowscript.signals import BreakSignal

DEFAULT_CHUNK_THRESHOLD = 100
TAG = "flowscript"  # on every task run, beside the node kind
_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("flowscript_inline", default=False)
_HERE: dict[str, Resources] = {}  # run id -> the resources of the flow's process for that run


class Sealed:
    """A node execution as one opaque task parameter. Prefect walks a task's parameters for
    futures and links them to results by identity; an execution's input may hold 100,000
    records, none of which is a future or another task's result object."""

    __slots__ = ("execution",)

    def __init__(self, execution: NodeExecution) -> None:
        self.execution = execution


@task(name="node", persist_result=False)
async def node_task(key: str, sealed: Sealed) -> dict[str, Any]:
    """One data-node execution, one attempt of it per task-run attempt: plain JSON in and out."""
    execution = sealed.execution
    resources = _HERE[execution.run_id]
    context = TaskRunContext.get()
    attempt = context.task_run.run_count if context is not None else 1
    try:
        answer = await execute(execution, resources)
    except Exception as error:
        Redactor(resources.secrets.values()).error(error)  # Prefect logs, keeps and persists what is raised
        error.attempts = attempt  # type: ignore[attr-defined]
        raise
    return {**answer, "attempts": attempt}


@task(name="control", persist_result=False)
async def control_task(key: str, run: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """A control node's execution, in the flow's process; its body's executions hang under it.
    A `<break/>` inside it comes back as data (Prefect would count an exception a failure)."""
    try:
        output = await run()
    except BreakSignal as signal:
        return {"break": True, "loop": signal.loop_id, "last": signal.last_output}
    if isinstance(output, WithMeta):
        return {"output": output.value, "meta": output.meta}
    return {"output": output}


def renamed(prefect_task: Task, name: str, tags: set[str]) -> Task:
    """A copy of a task under another name and tags. Building a Task (`Task(...)`,
    `with_options`) reads its function's source and hashes its code, about half a millisecond,
    as much as the rest of a task run's work in this process; a copy shares what is the same
    for every node."""
    copied = copy.copy(prefect_task)
    copied.name = name
    copied.tags = set(tags)
    return copied


@task(name="iterations", cache_policy=NO_CACHE, persist_result=False)
async def chunk_task(key: str, run: Callable[[], Awaitable[Any]]) -> None:
    """A chunk of foreach iterations; their node executions run inline, not as task runs."""
    token = _INLINE.set(True)
    try:
        await run()
    finally:
        _INLINE.reset(token)


@dataclass
class PrefectBackend:
    workflow_id: str
    run_id: str
    secrets: list[str] = field(default_factory=list)
    persist_results: bool = True
    chunk_threshold: int = DEFAULT_CHUNK_THRESHOLD
    interactive: bool | None = None
    approvals: Literal["terminal", "prefect"] = "terminal"  # deployed runs ask in the Prefect UI
    shared_limit: str | None = None  # a global concurrency limit every data-node execution takes a slot of
    tag_limits: TagLimits | None = None  # spares Prefect's per-task-run ask for tag limits that do not exist
    name: str = "prefect"

    def __post_init__(self) -> None:
        self._serializer = RedactedJSONSerializer.with_secrets(self.secrets)
        self._tasks: dict[tuple[str, str], Any] = {}  # (node id, tag) -> its Prefect task
        keep = (dict(persist_result=True, result_serializer=self._serializer, cache_key_fn=self._result_key)
                if self.persist_results else dict(cache_policy=NO_CACHE))
        self._base = node_task.with_options(task_run_name="{key}", **keep)  # this run's result options
        self._control = control_task.with_options(task_run_name="{key}", **keep)

    async def run_node(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        if _INLINE.get():
            return await run_with_retries(execution, resources)
        if self.shared_limit is not None:
            async with concurrency(self.shared_limit, occupy=1):
                return await self._node_run(execution, resources)
        return await self._node_run(execution, resources)

    async def _node_run(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        settings = execution.retry
        await self._prime(execution.tag)
        _HERE[execution.run_id] = resources
        try:
            answer: dict[str, Any] = await self._node_task(execution)(execution.key, Sealed(execution))
        except Exception as error:
            raise as_node_error(error, settings) from None
        return answer

    async def run_control(self, node_id: str, key: str, tag: str, run: Callable[[], Awaitable[Any]]) -> Any:
        if _INLINE.get():
            return await run()
        await self._prime(tag)
        made = self._tasks.get((node_id, tag))
        if made is None:
            made = self._tasks[(node_id, tag)] = renamed(self._control, node_id, {tag, TAG})
        answer = await made(key, run)
        if answer.get("break"):
            raise BreakSignal(answer["loop"], answer["last"])
        return WithMeta(answer["output"], answer["meta"]) if "meta" in answer else answer["output"]

    def _node_task(self, execution: NodeExecution) -> Any:
        """node_task named after the node and tagged with its kind; its run name and result key
        come from the `key` parameter, so a node's task serves all its executions. A node with
        retries gets a task per execution, whose retry condition counts that execution's retries."""
        settings, node_id, tag = execution.retry, execution.node.id, execution.tag
        if settings is not None:
            return self._base.with_options(
                name=node_id, tags={tag, TAG}, retries=settings.max_retries,
                retry_condition_fn=retry_condition(settings), timeout_seconds=settings.timeout_s)
        made = self._tasks.get((node_id, tag))
        if made is None:
            made = self._tasks[(node_id, tag)] = renamed(self._base, node_id, {tag, TAG})
        return made

    def _result_key(self, _context: Any, parameters: dict[str, Any]) -> str:
        return result_key(self.workflow_id, self.run_id, parameters["key"])

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        if self.approvals == "prefect":
            return await ask_in_prefect(request)
        return await ask_in_terminal(request, interactive=self.interactive)

    def iteration_chunk_size(self, items: int) -> int | None:
        if _INLINE.get() or items <= self.chunk_threshold:
            return None
        return self.chunk_threshold

    async def run_chunk(self, node_id: str, key: str, run: Callable[[], Awaitable[None]]) -> None:
        if _INLINE.get():
            await run()
            return
        await self._prime("foreach")
        await chunk_task.with_options(name=f"{node_id} iterations", task_run_name=key,
                                      tags={"foreach", TAG})(key, run)

    async def _prime(self, kind: str) -> None:
        if self.tag_limits is not None:
            await self.tag_limits.prime((kind, TAG))

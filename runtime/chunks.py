"""A chunk of foreach iterations as a value, and the one function that runs it anywhere.

A backend that takes a large foreach in chunks (the Prefect backend, above its threshold)
gets each chunk as a `ChunkExecution`: the plan (so nested nodes and fallbacks are there),
the foreach's items of the chunk, the values its body can read where the foreach runs, the
results a resumed run already has, and the run's retry settings. `execute_chunk` runs the
iterations with the same executor and the foreach's own `iterate` (nested control nodes
included; their data nodes run in that process, under their retry policies) and returns
every result as data for the flow's state file. A body that asks a person (a checkpoint)
is never chunked: it runs where the run is watched (docs/prefect.md#scaling-out).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscript.compiler.planner import Plan
from flowscript.compiler.sites import ALWAYS_BOUND
from flowscript.nodes.base import ApprovalDecision, ApprovalRequest, Iterations, walk
from flowscript.runtime.events import RunEvents
from flowscript.runtime.execution import NodeExecution, Resources
from flowscript.runtime.local_backend import run_with_retries
from flowscript.runtime.retry import RetrySettings
from flowscript.runtime.scope import MISSING, Frame, RunScope
from flowscript.runtime.secrets import Redactor
from flowscript.runtime.state import NodeResult, RunState

if TYPE_CHECKING:
    from flowscript.runtime.executor import Step


@dataclass(frozen=True, slots=True)
class ChunkExecution:
    """Iterations `start .. start + len(items) - 1` of one foreach execution."""

    plan: Plan
    run_id: str
    node_id: str  # the foreach
    key: str  # the foreach's result key
    label: str  # "each[100-199]": the chunk's task run name
    prefix: str  # the result-key prefix where the foreach runs ("" at top level)
    input: Any
    items: list[Any]
    start: int
    concurrency: int
    outputs: dict[str, Any]  # the node outputs the body reads, by node id
    bindings: dict[str, Any]  # the other names it reads where the foreach runs ($item of an outer loop...)
    config: dict[str, Any]
    context: dict[str, Any]
    default_retry: RetrySettings | None
    retries_enabled: bool
    max_concurrency: int
    prior: dict[str, NodeResult]  # a resumed run's successes inside the chunk
    workdir: str


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """What a chunk gave: the iterations' outcome and every node result, in start order."""

    iterations: Iterations
    results: list[tuple[str, NodeResult]]


def chunk_of(step: Step, items: list[Any], indices: range, concurrency: int) -> ChunkExecution:
    """The chunk of `step`'s foreach, with the values its body reads resolved where it runs."""
    from flowscript.nodes.foreach import ForeachNode  # loaded with the first foreach (nodes/registry.py)

    run, frame, node = step.ex.run, step.frame, step.node
    assert isinstance(node, ForeachNode)
    body = list(walk(node.body))
    names = {name for n in body for name in run.plan.reads.get(n.id, ())} | {n.input for n in body if n.input}
    outputs, bindings = {}, {}
    for name in names - ALWAYS_BOUND:
        value = frame.output(name) if name in run.plan.nodes else MISSING
        if value is not MISSING:
            outputs[name] = value
            continue
        value = frame.binding(name)
        if value is not MISSING:
            bindings[name] = value
    prefixes = tuple(f"{frame.prefix}{node.id}[{i}]." for i in indices)
    prior = {k: r for k, r in run.prior.items() if k.startswith(prefixes)}
    return ChunkExecution(
        plan=run.plan, run_id=run.state.run_id, node_id=node.id, key=step.key,
        label=f"{step.key}[{indices.start}-{indices.stop - 1}]", prefix=frame.prefix, input=step.input,
        items=items[indices.start:indices.stop], start=indices.start, concurrency=concurrency, outputs=outputs,
        bindings=bindings, config=run.scope.specials["$config"], context=run.scope.specials["$context"],
        default_retry=run.default_retry, retries_enabled=run.retries_enabled, max_concurrency=run.max_concurrency,
        prior=prior, workdir=str(run.workdir))


async def execute_chunk(chunk: ChunkExecution, resources: Resources) -> ChunkDone:
    """Runs the chunk's iterations in this process; a failed iteration is in the outcome (its
    error redacted), so the results of the others still reach the state file."""
    from flowscript.nodes.foreach import ForeachNode
    from flowscript.runtime.executor import Executor, RunContext, Step

    plan = chunk.plan
    node = plan.nodes[chunk.node_id]
    assert isinstance(node, ForeachNode)
    state = RunState(workflow_id=plan.workflow_id, run_id=chunk.run_id)
    run = RunContext(plan=plan, state=state, backend=_Inline(), scope=RunScope(chunk.config, resources.secrets,
                     chunk.context, {}, {}), events=RunEvents(), resources=resources, workdir=Path(chunk.workdir),
                     max_concurrency=chunk.max_concurrency, default_retry=chunk.default_retry,
                     retries_enabled=chunk.retries_enabled, prior=dict(chunk.prior))
    frame = Frame(bindings=chunk.bindings, prefix=chunk.prefix, outputs=dict(chunk.outputs))
    step = Step(Executor(run), node, frame, chunk.input, chunk.key)
    done = Iterations()
    items = [None] * chunk.start + chunk.items  # the foreach reads items by their index in the whole list
    try:
        await node.iterate(step, items, range(chunk.start, chunk.start + len(chunk.items)), chunk.concurrency, done)
    except Exception as error:
        done.failure = Redactor(resources.secrets.values()).error(error)
    results = sorted(state.node_results.items(), key=lambda item: item[1].start_order)
    return ChunkDone(done, results)


class _Inline:
    """The backend inside a chunk: every execution in this process, under its retry policy."""

    name = "chunk"

    async def run_node(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        return await run_with_retries(execution, resources)

    async def run_control(self, node_id: str, key: str, tag: str, run: Callable[[], Awaitable[Any]],
                          upstream: tuple[str, ...] = ()) -> Any:
        return await run()

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        raise AssertionError("a body that asks a person is never chunked")

    def iteration_chunk_size(self, items: int) -> int | None:
        return None

    async def run_chunk(self, chunk: ChunkExecution, resources: Resources) -> ChunkDone:
        raise AssertionError("chunks do not nest")

"""Running one node and one body (docs/language.md#running-one-node,
docs/language.md#retries-and-fallback): input, the execution through the backend, fallback, and recording
the result.

A data node's execution leaves as a value (execution.py) that the backend carries out; a
control node runs its kind's `run` here, in the flow's process, with a `Step` (its
`ControlStep`), and its bodies come back through `run_body`, so every node execution,
nested or not, goes through `run_node` and therefore through the backend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscript.compiler.planner import Plan
from flowscript.compiler.sites import ALWAYS_BOUND
from flowscript.errors import FlowScriptError
from flowscript.expressions import compile_expression, compile_template
from flowscript.nodes.base import (
    ApprovalDecision,
    ApprovalRequest,
    BodyItem,
    BreakNode,
    ControlNode,
    Iterations,
    Lane,
    Node,
    WithMeta,
    walk,
)
from flowscript.nodes.data import DataNode
from flowscript.runtime.backend import Backend
from flowscript.runtime.chunks import chunk_of
from flowscript.runtime.events import RunEvents
from flowscript.runtime.execution import NodeExecution, Resources, outcome_value, template_value, whole_number
from flowscript.runtime.persistence import StateStore
from flowscript.runtime.retry import RetrySettings, is_retryable
from flowscript.runtime.scope import MISSING, Frame, RunScope, Scope
from flowscript.runtime.secrets import SecretGuard, withhold_quoted
from flowscript.runtime.state import ErrorInfo, NodeResult, RunState, now_iso
from flowscript.signals import BreakSignal, CheckpointRejected, NodeFailed


@dataclass(kw_only=True)
class RunContext:
    """Everything one run's node executions share."""

    plan: Plan
    state: RunState
    backend: Backend
    scope: RunScope
    events: RunEvents
    resources: Resources
    workdir: Path
    max_concurrency: int
    default_retry: RetrySettings | None = None  # for data nodes without their own <on-error>
    retries_enabled: bool = True  # False (--no-retry): every node runs once
    store: StateStore | None = None
    prior: dict[str, NodeResult] = field(default_factory=dict)  # successes kept from the run being resumed
    running: dict[str, str] = field(default_factory=dict)  # result key -> node id, while it runs
    cut_off: list[str] = field(default_factory=list)  # result keys cancelled before they finished
    starts: Iterator[int] = field(default_factory=itertools.count)  # start order of node executions
    guard: SecretGuard | None = None  # marks secret-derived results, redacts recorded errors


class Executor:
    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.hyphen_ids = run.plan.hyphen_ids

    # ---------------------------------------------------------------- bodies
    async def run_body(self, items: Sequence[BodyItem], frame: Frame, input: Any) -> Any:
        """Runs a body in order. A node without `input` receives the previous node's output;
        the first one receives `input`. Returns the last node's output."""
        previous, previous_key = input, None
        for item in items:
            if isinstance(item, BreakNode):
                raise BreakSignal(item.loop, previous)
            if item.id in self.run.plan.fallback_only:
                continue
            upstream = (previous_key,) if previous_key is not None and item.input is None else ()
            previous = await self.run_node(item, frame, self.input_of(item, frame, previous), upstream)
            previous_key = frame.key(item.id)
        return previous

    def input_of(self, node: Node, frame: Frame, default: Any) -> Any:
        if node.input is None:
            return default
        value = frame.output(node.input)
        return None if value is MISSING else value

    def mark_skipped(self, items: Sequence[BodyItem], frame: Frame, *, only_unfinished: bool = False) -> None:
        """Nodes of a body that was not chosen (if/branch), or of a cancelled lane that did not
        finish (`only_unfinished`), are recorded as skipped."""
        for node in walk(items):
            key = frame.key(node.id)
            if not only_unfinished and key in self.run.state.node_results:
                continue
            if only_unfinished:
                if key in self.run.state.node_results and key not in self.run.cut_off:
                    continue
                if key in self.run.cut_off:
                    self.run.cut_off.remove(key)
            meta = {"cancelled": True} if only_unfinished else {}
            self.record(frame, node.id, key, NodeResult(status="skipped", started_at=now_iso(), completed_at=now_iso(),
                                                         meta=meta).started(next(self.run.starts)))

    # ---------------------------------------------------------------- one node
    async def run_node(self, node: Node, frame: Frame, input: Any, upstream: tuple[str, ...] = ()) -> Any:
        """Runs one node; `upstream`: the keys of the executions it depends on (for Prefect's graph)."""
        key = frame.key(node.id)
        prior = self.run.prior.get(key)
        if prior is not None:  # resuming: a node that succeeded is never run again
            self.record(frame, node.id, key, prior, persist=False)
            return prior.output

        started_at, t0, order = now_iso(), time.perf_counter(), next(self.run.starts)
        self.run.running[key] = node.id
        self.run.events.node_started(key, node)
        attempts = 0
        fell_back_to: str | None = None
        primary_error: ErrorInfo | None = None
        try:
            try:
                output, attempts = await self._carry_out(node, frame, input, key, self._retry_settings(node),
                                                         upstream)
            except (BreakSignal, CheckpointRejected, NodeFailed, asyncio.CancelledError) as error:
                attempts = getattr(error, "attempts", 1)
                raise
            except Exception as error:
                attempts = getattr(error, "attempts", 1)
                fallback = node.fallback if isinstance(node, DataNode) else None
                if not (fallback and is_retryable(error)):
                    raise
                primary_error = ErrorInfo.from_exception(error)
                fell_back_to = fallback
                output = await self._run_fallback(node, fallback, frame, input, error)
        except BreakSignal:
            raise
        except asyncio.CancelledError:
            self.run.cut_off.append(key)
            self.record(frame, node.id, key, NodeResult(
                status="failed", error=ErrorInfo(name="Cancelled", message="did not finish: the run was stopped"),
                duration=_ms_since(t0), started_at=started_at, completed_at=now_iso(),
                attempts=attempts).started(order))
            raise
        except Exception as error:
            failure = error if isinstance(error, NodeFailed) else None
            cause = failure.cause if failure else error
            info = ErrorInfo.from_exception(cause)
            if failure is not None and not isinstance(cause, CheckpointRejected):
                info.message = failure.message  # a container: say which nested node failed
            output = cause.output if isinstance(cause, CheckpointRejected) else None
            self.record(frame, node.id, key, NodeResult(
                status="failed", output=output, error=info, duration=_ms_since(t0), started_at=started_at,
                completed_at=now_iso(), attempts=attempts, fell_back_to=fell_back_to).started(order))
            raise NodeFailed(node.id, key, cause) from None
        finally:
            self.run.running.pop(key, None)

        meta = output.meta if isinstance(output, WithMeta) else {}
        value = output.value if isinstance(output, WithMeta) else output
        self.record(frame, node.id, key, NodeResult(
            status="success", output=value, error=primary_error, duration=_ms_since(t0), started_at=started_at,
            completed_at=now_iso(), attempts=attempts, fell_back_to=fell_back_to, meta=meta).started(order))
        return value

    async def _carry_out(self, node: Node, frame: Frame, input: Any, key: str, retry: RetrySettings | None,
                         upstream: tuple[str, ...]) -> tuple[Any, int]:
        """The node's execution through the backend: its output and how many attempts it took."""
        if isinstance(node, DataNode):
            execution = self.execution(node, frame, input, key, retry, upstream)
            answer = await self.run.backend.run_node(execution, self.run.resources)
            return outcome_value(answer), answer.get("attempts", 1)
        assert isinstance(node, ControlNode)
        step = Step(self, node, frame, input, key)
        withhold = node.id in self.run.plan.touches_secret_derived
        return await self.run.backend.run_control(node.id, key, node.kind_name,
                                                  lambda: _run_control_node(node, step, withhold), upstream), 1

    def execution(self, node: DataNode, frame: Frame, input: Any, key: str, retry: RetrySettings | None,
                  upstream: tuple[str, ...] = ()) -> NodeExecution:
        """The data node's execution as a value: the names it reads, resolved here."""
        scope = Scope(self.run.scope, frame, input)
        names = {}
        for name in self.run.plan.reads.get(node.id, ()):
            if name not in ALWAYS_BOUND:
                value = scope.get(name, MISSING)
                if value is not MISSING:
                    names[name] = value
        specials = self.run.scope.specials
        return NodeExecution(node=node, run_id=self.run.state.run_id, key=key, input=input, names=names,
                             config=specials["$config"], context=specials["$context"],
                             secret_names=tuple(self.run.plan.workflow.meta.secrets), hyphen_ids=self.hyphen_ids,
                             retry=retry, workdir=str(self.run.workdir), upstream=upstream,
                             secret_derived=node.id in self.run.plan.touches_secret_derived)

    async def _run_fallback(self, node: Node, fallback_id: str, frame: Frame, input: Any, error: Exception) -> Any:
        """The fallback runs once, with no retry policy, in an isolated copy of the context."""
        fallback = self.run.plan.nodes[fallback_id]
        message = error.message if isinstance(error, FlowScriptError) else str(error)
        isolated = frame.child({"$primaryError": message, "$primaryInput": input})
        self.run.events.fallback_started(frame.key(node.id), fallback.id)
        output, _ = await self._carry_out(fallback, isolated, self.input_of(fallback, isolated, input),
                                          frame.key(node.id) + "->" + fallback.id, None, ())
        return output.value if isinstance(output, WithMeta) else output

    def _retry_settings(self, node: Node) -> RetrySettings | None:
        if not isinstance(node, DataNode) or not self.run.retries_enabled:
            return None
        if node.on_error and node.on_error.retry:
            return RetrySettings.from_policy(node.on_error.retry)
        return self.run.default_retry

    def record(self, frame: Frame, node_id: str, key: str, result: NodeResult, *, persist: bool = True) -> None:
        frame.results[node_id] = result
        if result.status == "success":
            frame.outputs[node_id] = result.output
        self.record_key(key, result, persist=persist)

    def record_key(self, key: str, result: NodeResult, *, persist: bool = True) -> None:
        """A result into the run's state, its state file's journal and its events."""
        if self.run.guard is not None:
            self.run.guard.result(key, result)
        self.run.state.node_results[key] = result
        if persist and self.run.store is not None:
            self.run.store.record(key, result)
        self.run.events.node_finished(key, result)


class RunLane:
    """A `Lane`: where a body runs (a frame of the run), and what its expressions see."""

    __slots__ = ("ex", "frame", "input", "owner")

    def __init__(self, ex: Executor, frame: Frame, input: Any, owner: str) -> None:
        self.ex, self.frame, self.input, self.owner = ex, frame, input, owner

    def _scope(self, names: Mapping[str, Any] | None = None) -> Scope:
        return Scope(self.ex.run.scope, self.frame, self.input, names)

    def evaluate(self, text: str, names: Mapping[str, Any] | None = None) -> Any:
        return compile_expression(text, node_ids=self.ex.hyphen_ids).evaluate(self._scope(names))

    def evaluator(self, text: str) -> Callable[[Mapping[str, Any]], Any]:
        compiled, scope = compile_expression(text, node_ids=self.ex.hyphen_ids), self._scope()
        return lambda names: compiled.evaluate(scope.with_names(names))

    def render(self, text: str) -> str:
        return compile_template(text, node_ids=self.ex.hyphen_ids).render(self._scope())

    def whole_number(self, text: str | None, what: str, default: int | None, minimum: int = 0) -> int | None:
        value = template_value(text, self._scope(), self.ex.hyphen_ids) if text is not None else None
        return whole_number(value, text, what, default, minimum)

    async def run_body(self, items: Sequence[BodyItem], input: Any) -> Any:
        return await self.ex.run_body(items, self.frame, input)

    def lane(self, bindings: Mapping[str, Any], *, iteration: int | None = None) -> RunLane:
        prefix = None if iteration is None else f"{self.frame.prefix}{self.owner}[{iteration}]."
        return RunLane(self.ex, self.frame.child(bindings, prefix=prefix), self.input, self.owner)

    def results(self) -> Mapping[str, NodeResult]:
        return self.frame.results


class Step(RunLane):
    """The `ControlStep` a control node's `run` gets: its lane, plus what only the engine can do."""

    __slots__ = ("key", "node")

    def __init__(self, ex: Executor, node: Node, frame: Frame, input: Any, key: str) -> None:
        super().__init__(ex, frame, input, node.id)
        self.node, self.key = node, key

    @property
    def max_concurrency(self) -> int:
        return self.ex.run.max_concurrency

    def skip(self, items: Sequence[BodyItem]) -> None:
        self.ex.mark_skipped(items, self.frame)

    def skip_unfinished(self, items: Sequence[BodyItem]) -> None:
        self.ex.mark_skipped(items, self.frame, only_unfinished=True)

    def summarize(self, iterations: Sequence[Mapping[str, Any]]) -> None:
        """The results of the last iteration in which each body node ran become its plain result
        and output (`node.output` after the loop), in index order."""
        latest: dict[str, NodeResult] = {}
        for results in iterations:
            latest.update(results)
        for node_id, result in latest.items():
            self.ex.record(self.frame, node_id, self.frame.key(node_id), result)

    def adopt(self, lanes: Sequence[Lane]) -> None:
        for lane in lanes:
            if isinstance(lane, RunLane):
                self.frame.outputs.update(lane.frame.outputs)
                self.frame.results.update(lane.frame.results)

    async def ask(self, request: ApprovalRequest) -> ApprovalDecision:
        events, guard = self.ex.run.events, self.ex.run.guard
        if guard is not None:  # a prompt made of secret-derived input is shown, and kept by Prefect, redacted
            request = dataclasses.replace(request, prompt=guard.text(request.prompt))
        events.approval_wait(request.key, waiting=True)
        try:
            return await self.ex.run.backend.request_approval(request)
        finally:
            events.approval_wait(request.key, waiting=False)

    def progress(self, done: int, total: int) -> None:
        self.ex.run.events.items_progress(self.key, done, total)

    def chunk_size(self, items: int) -> int | None:
        return self.ex.run.backend.iteration_chunk_size(items)

    async def run_chunk(self, items: list[Any], indices: range, concurrency: int, into: Iterations) -> None:
        """The chunk leaves as a value; its results come back as data and are recorded here, in
        the order the chunk started them."""
        chunk = chunk_of(self, items, indices, concurrency)
        done = await self.ex.run.backend.run_chunk(chunk, self.ex.run.resources)
        for key, result in done.results:
            self.ex.record_key(key, result.started(next(self.ex.run.starts)), persist=key not in self.ex.run.prior)
        self.progress(len(done.iterations.results) + len(into.results), len(items))
        into.merge(done.iterations)


def _ms_since(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


async def _run_control_node(node: ControlNode, step: Step, withhold_quotes: bool) -> Any:
    """In a control node that makes values of secrets, what its own expression errors quote is
    withheld, as for a data node (`execution.execute`); its body's nodes answer for theirs."""
    try:
        return await node.run(step)
    except NodeFailed:
        raise
    except Exception as error:
        if withhold_quotes:
            withhold_quoted(error)
        raise

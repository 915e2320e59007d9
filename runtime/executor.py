"""Running one node and one body (FLOWSCRIPT.md 5.3, 5.4): input, config templates,
retries through the backend, fallback, and recording the result.

Control-node runtimes call back into `run_body` for their bodies, so every node execution,
nested or not, goes through `run_node` and therefore through the backend.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscript.compiler.ast import AnyNode, BreakNode, DataNode, walk
from flowscript.compiler.planner import Plan, node_kind
from flowscript.errors import ExpressionError, FlowScriptError
from flowscript.expressions import compile_expression, compile_template
from flowscript.runtime.backend import Backend, NodeTask
from flowscript.runtime.events import RunEvents
from flowscript.runtime.node_config import SELF_EVALUATED_CONFIG
from flowscript.runtime.persistence import StateStore
from flowscript.runtime.retry import RetrySettings, is_retryable
from flowscript.runtime.scope import MISSING, Frame, RunScope, Scope
from flowscript.runtime.signals import BreakSignal, CheckpointRejected, NodeFailed
from flowscript.runtime.state import ErrorInfo, NodeResult, RunState, now_iso

if TYPE_CHECKING:
    import httpx

Handler = Callable[["Executor", Any, Frame, Any], Any]

@dataclass
class RunContext:
    """Everything one run's node executions share."""

    plan: Plan
    state: RunState
    backend: Backend
    scope: RunScope
    events: RunEvents
    http: httpx.AsyncClient
    workdir: Path
    env: Mapping[str, str]
    secrets: Mapping[str, str]
    max_concurrency: int
    default_retry: RetrySettings | None = None
    store: StateStore | None = None
    prior: dict[str, NodeResult] = field(default_factory=dict)  # successes kept from the run being resumed
    running: dict[str, str] = field(default_factory=dict)  # result key -> node id, while it runs
    cut_off: list[str] = field(default_factory=list)  # result keys cancelled before they finished
    retries_enabled: bool = True
    starts: Iterator[int] = field(default_factory=itertools.count)  # start order of node executions

    @property
    def node_ids(self) -> frozenset[str]:
        return frozenset(self.plan.nodes)


class Executor:
    def __init__(self, run: RunContext, handlers: Mapping[str, Handler]) -> None:
        self.run = run
        self._handlers = handlers
        self._node_ids = run.node_ids

    # ---------------------------------------------------------------- expressions
    def scope(self, frame: Frame, input: Any) -> Scope:
        return Scope(self.run.scope, frame, input)

    def evaluate(self, text: str, scope: Mapping[str, Any]) -> Any:
        return compile_expression(text, node_ids=self._node_ids).evaluate(scope)

    def expression(self, text: str) -> Any:
        return compile_expression(text, node_ids=self._node_ids)

    def template_value(self, value: Any, scope: Mapping[str, Any]) -> Any:
        """A config value with its templates resolved; nested mappings and lists too."""
        if isinstance(value, str):
            return compile_template(value, node_ids=self._node_ids).evaluate(scope) if "{{" in value else value
        if isinstance(value, dict):
            return {k: self.template_value(v, scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self.template_value(v, scope) for v in value]
        return value

    def render(self, text: str, scope: Mapping[str, Any]) -> str:
        return compile_template(text, node_ids=self._node_ids).render(scope)

    def whole_number(self, text: str | None, scope: Mapping[str, Any], what: str, default: int | None,
                     minimum: int = 0) -> int | None:
        """A numeric attribute (`max`, `concurrency`, `timeout`), possibly a template."""
        if text is None:
            return default
        value = self.template_value(text, scope)
        try:
            number = int(value) if not isinstance(value, bool) and float(value) == int(float(value)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < minimum:
            raise ExpressionError(f"{what} must be a whole number >= {minimum}, got {value!r}",
                                  code="EXPR_TYPE_ERROR", expression=text)
        return number

    def resolve_config(self, node: DataNode, scope: Mapping[str, Any]) -> dict[str, Any]:
        keep = SELF_EVALUATED_CONFIG.get(f"{node.kind}:{node.type}", frozenset())
        return {k: v if k in keep else self.template_value(v, scope) for k, v in node.config.items()}

    # ---------------------------------------------------------------- bodies
    async def run_body(self, items: list[Any], frame: Frame, input: Any) -> Any:
        """Runs a body in order. A node without `input` receives the previous node's output;
        the first one receives `input`. Returns the last node's output."""
        previous = input
        for item in items:
            if isinstance(item, BreakNode):
                raise BreakSignal(item.loop, previous)
            if item.id in self.run.plan.fallback_only:
                continue
            previous = await self.run_node(item, frame, self.input_of(item, frame, previous))
        return previous

    def input_of(self, node: AnyNode, frame: Frame, default: Any) -> Any:
        if node.input is None:
            return default
        value = frame.output(node.input)
        return None if value is MISSING else value

    def mark_skipped(self, items: list[Any], frame: Frame) -> None:
        """Nodes of a body that was not chosen (if/branch) are recorded as skipped."""
        for node in walk(items):
            key = frame.key(node.id)
            if key not in self.run.state.node_results:
                self.record(frame, node.id, key, NodeResult(status="skipped", started_at=now_iso(),
                                                             completed_at=now_iso()).started(next(self.run.starts)))

    # ---------------------------------------------------------------- one node
    async def run_node(self, node: AnyNode, frame: Frame, input: Any) -> Any:
        key = frame.key(node.id)
        prior = self.run.prior.get(key)
        if prior is not None:  # resuming: a node that succeeded is never run again
            self.record(frame, node.id, key, prior, persist=False)
            return prior.output

        handler = self._handlers[node_kind(node)]
        attempts = 0

        async def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            return await handler(self, node, frame, input)

        started_at, t0, order = now_iso(), time.perf_counter(), next(self.run.starts)
        self.run.running[key] = node.id
        self.run.events.node_started(key, node)
        task = NodeTask(node.id, key, node_kind(node), attempt, self._retry_settings(node))
        fell_back_to: str | None = None
        primary_error: ErrorInfo | None = None
        try:
            try:
                output = await self.run.backend.run_task(task)
            except (BreakSignal, CheckpointRejected, NodeFailed, asyncio.CancelledError):
                raise
            except Exception as error:
                fallback = node.on_error.fallback if isinstance(node, DataNode) and node.on_error else None
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

    async def _run_fallback(self, node: AnyNode, fallback_id: str, frame: Frame, input: Any,
                            error: Exception) -> Any:
        """The fallback runs once, with no retry policy, in an isolated copy of the context."""
        fallback = self.run.plan.nodes[fallback_id]
        message = error.message if isinstance(error, FlowScriptError) else str(error)
        isolated = frame.child({"$primaryError": message, "$primaryInput": input})
        fallback_input = self.input_of(fallback, isolated, input)
        handler = self._handlers[node_kind(fallback)]
        task = NodeTask(fallback.id, frame.key(node.id) + "->" + fallback.id, node_kind(fallback),
                        lambda: handler(self, fallback, isolated, fallback_input), None)
        self.run.events.fallback_started(frame.key(node.id), fallback.id)
        output = await self.run.backend.run_task(task)
        return output.value if isinstance(output, WithMeta) else output

    def _retry_settings(self, node: AnyNode) -> RetrySettings | None:
        if not isinstance(node, DataNode) or not self.run.retries_enabled:
            return None
        if node.on_error and node.on_error.retry:
            return RetrySettings.from_policy(node.on_error.retry)
        return self.run.default_retry

    def record(self, frame: Frame, node_id: str, key: str, result: NodeResult, *, persist: bool = True) -> None:
        self.run.state.node_results[key] = result
        frame.results[node_id] = result
        if result.status == "success":
            frame.outputs[node_id] = result.output
        if persist and self.run.store is not None:
            self.run.store.record(key, result)
        self.run.events.node_finished(key, result)


@dataclass(frozen=True, slots=True)
class WithMeta:
    """A runtime's output plus figures for the node result (AI usage, iteration counts...)."""

    value: Any
    meta: dict[str, Any]


def _ms_since(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)

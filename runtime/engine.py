"""The wave engine (docs/language.md#the-wave-loop): the one implementation of a run's semantics.

Both backends run through `Engine`; a backend only carries out single node executions.
Waves run in order; a wave's nodes run concurrently (at most `max_concurrency` at a
time); when any fails, the others of that wave still finish, the state is saved as
failed, later waves do not start, the error handler is called, and the run raises a
RunFailed naming every failed node. A run timeout cancels the running nodes and records
which did not finish. The markdown log is written on success and failure.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscript.compiler.planner import Plan
from flowscript.nodes.base import walk
from flowscript.nodes.semaphore import FifoSemaphore
from flowscript.runtime.backend import Backend
from flowscript.runtime.events import RunEvents
from flowscript.runtime.execution import Resources
from flowscript.runtime.executor import Executor, RunContext
from flowscript.runtime.markdown_log import format_log, write_log
from flowscript.runtime.persistence import DEFAULT_STATE_DIR, StateStore, state_path
from flowscript.runtime.retry import RetrySettings
from flowscript.runtime.scope import MISSING, Frame, RunScope
from flowscript.runtime.secrets import Redactor, SecretGuard, node_of
from flowscript.runtime.state import Cancellation, ErrorInfo, NodeResult, Owner, RunState, now_iso
from flowscript.signals import NodeFailed, RunFailed

DEFAULT_MAX_CONCURRENCY = 10
ErrorHandler = Callable[[RunState, BaseException], Awaitable[None] | None]


@dataclass
class RunOptions:
    """How a run goes: concurrency, timeout, retries, where state and log go."""

    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    timeout_s: float | None = None  # the whole run
    default_retry: RetrySettings | None = None  # for nodes without their own <on-error>
    retries_enabled: bool = True  # False (--no-retry): every node runs once
    state_dir: Path | None = Path(DEFAULT_STATE_DIR)  # None: no state file
    write_log: bool = True  # the markdown log into the .flow.md file
    workdir: Path = field(default_factory=Path.cwd)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    events: RunEvents = field(default_factory=RunEvents)
    error_handler: ErrorHandler | None = None
    context: dict[str, Any] = field(default_factory=dict)  # the global context layer
    log_warnings: list[str] = field(default_factory=list)  # problems reported, never raised


class Engine:
    def __init__(self, plan: Plan, backend: Backend, options: RunOptions | None = None) -> None:
        self.plan = plan
        self.backend = backend
        self.options = options or RunOptions()
        # The last run's redactor: the secrets and, learned as they were made, the secret-derived
        # values; what a caller writes about the run (Prefect's log artifact) goes through it.
        self.redactor = Redactor(())

    def new_state(self, config: Mapping[str, Any], *, run_id: str | None = None, input: Any = None) -> RunState:
        workflow = self.plan.workflow
        state = RunState(workflow_id=self.plan.workflow_id, config=dict(config), input=input,
                         workflow_path=str(Path(workflow.path).resolve()) if workflow.path else None,
                         workdir=str(self.options.workdir.resolve()), workflow_sha256=workflow.source_sha256,
                         backend=self.backend.name)
        if run_id:
            state.run_id = run_id
        state.context.global_.update(self.options.context)
        return state

    def state_file(self, state: RunState) -> Path | None:
        if self.options.state_dir is None:
            return None
        return state_path(self.options.state_dir, state.workflow_id, state.run_id)

    async def run(self, state: RunState, secrets: Mapping[str, str]) -> RunState:
        """Runs every wave; returns the completed state or raises RunFailed (state saved)."""
        return await self._execute(state, secrets, prior={}, first_wave=0)

    async def resume(self, state: RunState, secrets: Mapping[str, str]) -> RunState:
        """Re-runs what did not succeed, from the failed wave on; successes are reused. A
        completed run is returned as it is: nothing runs, nothing is written."""
        if state.status == "completed":
            return state
        prior = {key: result for key, result in state.node_results.items() if result.status == "success"}
        first_wave = state.current_wave
        withheld = self._withheld(state)
        if withheld:  # their outputs were not kept: they run again (each a computation, nothing sent or written)
            prior = {key: result for key, result in prior.items() if not result.secret and key not in withheld}
            first_wave = min(first_wave, *withheld.values())
        state.node_results = dict(prior)
        state.error, state.errors, state.unfinished, state.cancellation = None, [], [], None
        state.completed_at = None
        return await self._execute(state, secrets, prior=prior, first_wave=first_wave)

    def _withheld(self, state: RunState) -> dict[str, int]:
        """The top-level nodes holding a secret-derived result, with their waves
        (docs/language.md#persistence-and-resume): a resume runs them again, reusing what
        succeeded inside them."""
        top_of = {node.id: top.id for top in self.plan.workflow.nodes for node in walk([top])}
        wave_of = {node_id: wave.number for wave in self.plan.waves for node_id in wave.node_ids}
        return {top_of[node]: wave_of[top_of[node]] for key, result in state.node_results.items()
                if result.secret and (node := node_of(key)) in top_of and top_of[node] in wave_of}

    # ---------------------------------------------------------------- the wave loop
    async def _execute(self, state: RunState, secrets: Mapping[str, str], *, prior: dict[str, NodeResult],
                       first_wave: int) -> RunState:
        options = self.options
        redactor = self.redactor = Redactor(secrets.values())  # it learns secret-derived values as they are made
        path = self.state_file(state)
        store = StateStore(path, redactor) if path else None
        root = Frame(outputs={k: r.output for k, r in prior.items() if "[" not in k and "->" not in k})
        state.status, state.owner, state.backend = "running", Owner.current(), self.backend.name
        scope = RunScope(state.config, secrets, state.context.global_, state.context.phase, state.context.node)
        failure: RunFailed | None = None
        resources = Resources(secrets=secrets, env=options.env)
        # nothing to mark or redact without secrets: no guard on every result's way
        guard = SecretGuard(redactor, self.plan.secret_derived) if redactor or self.plan.secret_derived else None
        try:
            run = RunContext(plan=self.plan, state=state, backend=self.backend, scope=scope, events=options.events,
                             resources=resources, workdir=options.workdir, max_concurrency=options.max_concurrency,
                             default_retry=options.default_retry, retries_enabled=options.retries_enabled,
                             store=store, prior=prior, guard=guard)
            executor = Executor(run)
            options.events.run_started(state, len(self.plan.waves))
            self._save(store, state)
            try:
                await self._waves(executor, root, first_wave)
            except RunFailed as e:
                failure = e
            except asyncio.CancelledError:
                failure = RunFailed("the run was stopped", cancelled=True)
                state.cancellation = Cancellation(reason="stopped by the user", at=now_iso())
                self._finish(state, store, failure, redactor)
                raise
        finally:
            await resources.close()
        if failure is not None:
            self._finish(state, store, failure, redactor)
            await self._call_error_handler(state, failure)
            raise failure
        self._finish(state, store, None, redactor)
        return state

    async def _waves(self, executor: Executor, root: Frame, first_wave: int) -> None:
        run = executor.run
        semaphore = FifoSemaphore(max(1, self.options.max_concurrency))

        async def top_level(node_id: str) -> NodeFailed | None:
            node = self.plan.nodes[node_id]
            async with semaphore:
                run_input = run.state.input
                if node.input is not None:
                    value = root.output(node.input)
                    run_input = None if value is MISSING else value
                try:
                    await executor.run_node(node, root, run_input, tuple(sorted(self.plan.dependencies[node_id])))
                except NodeFailed as failed:
                    return failed
            return None

        timeout = self.options.timeout_s
        try:
            async with asyncio.timeout(timeout):
                last = self.plan.waves[-1].number if self.plan.waves else -1
                for wave in self.plan.waves[first_wave:]:
                    run.state.current_wave = wave.number
                    run.events.wave_started(wave.number, wave.node_ids)
                    outcomes = await _gather_wave([top_level(node_id) for node_id in wave.node_ids])
                    failures = [f for f in outcomes if f is not None]
                    if run.store is not None:
                        run.store.wave_finished(run.state, last=wave.number == last or bool(failures))
                    if failures:
                        raise _wave_failure(failures)
        except TimeoutError:
            run.state.unfinished = list(dict.fromkeys(run.cut_off))
            unfinished = f"; unfinished: {', '.join(run.state.unfinished)}" if run.state.unfinished else ""
            raise RunFailed(f"run timed out after {timeout:g}s{unfinished}", code="RUN_TIMEOUT") from None

    # ---------------------------------------------------------------- endings
    def _finish(self, state: RunState, store: StateStore | None, failure: RunFailed | None,
                redactor: Redactor) -> None:
        state.completed_at = now_iso()
        if failure is None:
            state.status = "completed"
        else:
            state.status = "cancelled" if failure.cancelled else "failed"
            failure.message = redactor.text(failure.message)  # what callers print: no secret-derived text
            failure.args = (failure.message,)
            state.error = ErrorInfo(name=type(failure).__name__, message=failure.message, code=failure.code)
            state.errors = [_redacted(ErrorInfo.from_exception(f.cause), redactor) for f in failure.failures]
            rejected = next((f.rejected for f in failure.failures if f.rejected), None)
            if rejected is not None:
                state.cancellation = Cancellation(reason="checkpoint rejected", checkpoint=rejected.checkpoint_id,
                                                  action="reject", by=rejected.by, comment=rejected.comment,
                                                  at=rejected.output.get("respondedAt"))
        self._save(store, state)
        if store is not None:
            store.close()
        self.options.events.run_finished(state)
        self._write_markdown_log(state, redactor)

    def _save(self, store: StateStore | None, state: RunState) -> None:
        if store is not None:
            store.save(state)

    def _write_markdown_log(self, state: RunState, redactor: Redactor) -> None:
        path = Path(self.plan.workflow.path) if self.plan.workflow.path else None
        if not self.options.write_log or path is None:
            return
        try:
            if os.access(path, os.W_OK):
                write_log(path, format_log(state, redactor))
        except (OSError, UnicodeError) as e:  # never masks the run's result
            self.options.log_warnings.append(f"could not write the execution log into {path}: {e}")

    async def _call_error_handler(self, state: RunState, failure: RunFailed) -> None:
        handler = self.options.error_handler
        if handler is None:
            return
        try:
            result = handler(state, failure)
            if inspect.isawaitable(result):
                await result
        except Exception as e:  # reported, never masks the run's failure
            self.options.log_warnings.append(f"the error handler failed: {type(e).__name__}: {e}")


def _redacted(info: ErrorInfo, redactor: Redactor) -> ErrorInfo:
    info.message = redactor.text(info.message)
    info.stack = redactor.text(info.stack) if info.stack else info.stack
    return info


async def _gather_wave(nodes: list[Awaitable[NodeFailed | None]]) -> list[NodeFailed | None]:
    """The wave's nodes at once. An error that is not a node's failure (the state file could
    not be written...) ends the run: the other nodes are cancelled, not left running
    detached from a run that has already raised. A wave of one node (every step of a chain)
    runs in place: a task of its own costs the event loop two more turns."""
    if len(nodes) == 1:
        return [await nodes[0]]
    tasks = [asyncio.ensure_future(node) for node in nodes]
    try:
        return await asyncio.gather(*tasks)
    except Exception:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _wave_failure(failures: list[NodeFailed]) -> RunFailed:
    """One error naming every failed node of the wave (docs/language.md#the-wave-loop). Only rejections: cancelled."""
    real = [f for f in failures if f.rejected is None]
    if not real:
        return RunFailed(str(failures[0].cause), failures, cancelled=True)
    if len(real) == 1:
        return RunFailed(real[0].message, failures, code=real[0].code)
    listed = "; ".join(f.message for f in real)
    return RunFailed(f"{len(real)} nodes failed: {listed}", failures)

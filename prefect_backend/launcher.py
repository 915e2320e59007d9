"""Starting a workflow run as a Prefect flow run from this process (the CLI, tests).

Without PREFECT_API_URL, Prefect serves its API from a temporary local server for the
length of the run (it costs seconds); with it, the run is recorded on that server.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from prefect import Flow
from prefect.context import AsyncClientContext
from prefect.logging.handlers import PrefectConsoleHandler
from prefect.states import State
from prefect.task_engine import TaskRunTimeoutError

from flowscript.compiler.planner import Plan
from flowscript.errors import FlowScriptError
from flowscript.prefect_backend.concurrency import read_limits
from flowscript.prefect_backend.flow_builder import LAUNCH, Launch, build_flow
from flowscript.prefect_backend.task_runners import TaskRunnerChoice, choice_from
from flowscript.runtime.engine import RunOptions
from flowscript.runtime.state import RunState
from flowscript.signals import BreakSignal


class PrefectRunError(FlowScriptError):
    default_code = "RUN_PREFECT_ERROR"


async def run_through_prefect(plan: Plan, config: dict[str, Any], run_input: Any, options: RunOptions, *,
                              resume: RunState | None = None, interactive: bool | None = None,
                              persist_results: bool = True, verbose: bool = False,
                              runner: TaskRunnerChoice | None = None) -> Launch:
    """Runs (or resumes) the workflow as one flow run; the returned Launch holds its state and
    failure. Raises PrefectRunError when the flow run ended before the engine could start.

    The flow run, the limits listing and the log artifact share one API client, which stays
    open after the flow run ends, so those two requests overlap Prefect's own: the listing
    runs while Prefect creates the flow run, the artifact while it records its end."""
    if not verbose:
        quiet_console()
    launch = Launch(options=options, resume=resume, interactive=interactive, approvals="terminal",
                    persist_results=persist_results, log_after_flow=True)
    async with _api_client():
        launch.limits = asyncio.ensure_future(read_limits())
        token = LAUNCH.set(launch)
        try:
            flow = flow_of(plan, runner or choice_from())
            final: State = await cast(Awaitable[State], flow(**config, input=run_input, return_state=True))
        finally:
            LAUNCH.reset(token)
            await _finish(launch)
    if launch.state is None:
        raise PrefectRunError(f"the Prefect flow run ended before the workflow started: {final.message}",
                              hint="see the flow run's logs in Prefect")
    return launch


_FLOWS: OrderedDict[tuple[int, TaskRunnerChoice], tuple[Plan, Flow]] = OrderedDict()  # the latest few


def flow_of(plan: Plan, runner: TaskRunnerChoice) -> Flow:
    """The plan's flow, built once (5-10 ms) for a process that runs the same workflow again."""
    key = (id(plan), runner)
    kept = _FLOWS.get(key)
    if kept is None or kept[0] is not plan:
        kept = _FLOWS[key] = (plan, build_flow(plan, runner))
        while len(_FLOWS) > 8:
            _FLOWS.popitem(last=False)
    _FLOWS.move_to_end(key)
    return kept[1]


@asynccontextmanager
async def _api_client() -> AsyncIterator[None]:
    """Prefect's client for this run; an API that does not answer is the user's to fix."""
    try:
        async with AsyncClientContext.get_or_create():
            yield
    except RuntimeError as error:
        if not isinstance(error.__cause__, httpx.TransportError):
            raise
        raise PrefectRunError(f"cannot reach the Prefect API: {error}",
                              hint="start it (`prefect server start`), unset PREFECT_API_URL for a temporary "
                                   "local one, or run with --local") from None


async def _finish(launch: Launch) -> None:
    """Awaits the artifact request the flow run left to this caller (a failed one is reported
    with the run's other warnings: the log is in the workflow file and the state file too)
    and drops a limits listing the flow run never used."""
    limits = launch.limits
    if limits is not None and not limits.cancel() and not limits.cancelled():  # it had finished
        limits.exception()  # retrieved, so asyncio does not report a failed listing as never retrieved
    if launch.publishing is None:
        return
    try:
        await launch.publishing
    except Exception as error:  # the run's outcome stands
        launch.options.log_warnings.append(f"could not publish the execution log as a Prefect artifact: {error}")


def quiet_console() -> None:
    """Task and flow run logs still go to the Prefect API; the terminal shows only warnings,
    this process's and those of a temporary Dask cluster's workers (which inherit the setting),
    and none of a run's expected outcomes (`OutcomesOffTheTerminal`)."""
    for handler in logging.getLogger().handlers:  # Prefect's run loggers propagate to the root's console
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.WARNING)
            if not any(isinstance(f, OutcomesOffTheTerminal) for f in handler.filters):
                handler.addFilter(OutcomesOffTheTerminal())
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


class OutcomesOffTheTerminal(logging.Filter):
    """A run's expected outcomes are not crashes: a node that failed (after its retries, or before
    a fallback took over), a rejected checkpoint, a run timeout, a break. Prefect logs each as an
    error of its task or flow run, with a traceback ("Task run failed with exception: ...",
    "Finished in state Failed(...)", "Crash detected!" for a run cut off): the API keeps them, for
    the UI; the terminal gets the command's own summary instead, one line per failed node. An
    error that is not one of the project's (a bug, a crash of Prefect itself) still shows."""

    RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.name.startswith(self.RUN_LOGGERS):
            return True
        error = record.exc_info[1] if record.exc_info else None
        return error is not None and not expected_outcome(error)


def expected_outcome(error: BaseException) -> bool:
    """An error a run reports as its outcome: the project's own (a node's failure, a rejection...),
    a cancellation, an attempt's timeout."""
    return isinstance(error, FlowScriptError | BreakSignal | asyncio.CancelledError | TimeoutError
                      | TaskRunTimeoutError)

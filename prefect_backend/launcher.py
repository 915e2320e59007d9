"""Starting a workflow run as a Prefect flow run from this process (the CLI, tests).

With PREFECT_API_URL, the run is recorded on that server. Without it, the run has a temporary
local server of its own (prefect_backend/temporary_server.py: it costs seconds, so the user is
told at once, its output stays off the terminal, and it is stopped once it has recorded the run).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
from prefect import Flow
from prefect.context import AsyncClientContext
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from prefect.states import State

from flowscript.compiler.planner import Plan
from flowscript.errors import FlowScriptError
from flowscript.prefect_backend.concurrency import read_limits
from flowscript.prefect_backend.console import EVENTS_WORKER_LOGGER, quiet_console
from flowscript.prefect_backend.flow_builder import LAUNCH, Launch, build_flow
from flowscript.prefect_backend.task_runners import TaskRunnerChoice, choice_from
from flowscript.prefect_backend.temporary_server import TemporaryServer, claim, start_announced
from flowscript.runtime.engine import RunOptions
from flowscript.runtime.state import RunState


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
    server = await _temporary_server()
    try:
        with _api_of(server):
            async with _api_client():
                await _one_csrf_token()
                launch.limits = asyncio.ensure_future(read_limits())
                token = LAUNCH.set(launch)
                try:
                    flow = flow_of(plan, runner or choice_from())
                    final: State = await cast(Awaitable[State], flow(**config, input=run_input, return_state=True))
                finally:
                    LAUNCH.reset(token)
                    await _finish(launch)
                if server is not None:
                    await _recorded(launch)
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
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


async def _temporary_server() -> TemporaryServer | None:
    """The temporary server of this run when Prefect's settings name no API (the one the command
    line started early, or one started now, saying so at once), ready; None when an API is
    configured (a server started early on a guess is stopped)."""
    settings = get_current_settings()
    server = claim()
    if settings.api.url or not settings.server.ephemeral.enabled:
        if server is not None:
            await asyncio.to_thread(server.stop, 5)
        return None
    if server is None:
        server = start_announced(Path(settings.home), os.environ)
    try:
        await asyncio.to_thread(server.wait_ready)
    except RuntimeError as error:
        raise PrefectRunError(f"could not start a temporary Prefect server: {error}",
                              hint="start one (`prefect server start`) and set PREFECT_API_URL, or run with "
                                   "--local") from None
    return server


@contextmanager
def _api_of(server: TemporaryServer | None) -> Iterator[None]:
    if server is None:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: server.url}):
        yield


async def _recorded(launch: Launch, timeout_s: float = 10) -> None:
    """Waits until the temporary server has recorded the run's last task runs in their final
    states (it records them from events, after the flow run has ended), so stopping it loses
    nothing and cuts no write short."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    await APILogHandler.aflush()  # what this process still holds for it: logs, and the events it records runs from
    level = EVENTS_WORKER_LOGGER.level
    EVENTS_WORKER_LOGGER.setLevel(logging.ERROR)  # "Still processing items: 1...": they are being sent now
    try:
        drained = EventsWorker.drain_all()
        if inspect.isawaitable(drained):
            await drained
    finally:
        EVENTS_WORKER_LOGGER.setLevel(level)
    ids = launch.backend.task_run_ids()[-100:] if launch.backend is not None else []
    if not ids:
        return
    client = get_client()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = await client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=ids)),
                                           limit=len(ids))
        if len(runs) == len(ids) and all(r.state is not None and r.state.is_final() for r in runs):
            return
        await asyncio.sleep(0.05)


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


async def _one_csrf_token() -> None:
    """Lets the run's client settle its CSRF token now, once: the listing and the flow run's
    creation, sent together, would each ask for one (Prefect asks before a client's first
    write). The flow run's creation asked first anyway, so nothing waits longer. Where Prefect's
    client has no such step, or the API does not answer, nothing is done here (the flow run's
    creation meets and reports the same)."""
    from prefect.client.orchestration import get_client

    http = getattr(get_client(), "_client", None)
    settle = getattr(http, "_add_csrf_headers", None)
    if settle is None or not getattr(http, "enable_csrf_support", False):
        return
    try:
        await settle(httpx.Request("POST", "/"))
    except Exception:  # the flow run's creation meets and reports it
        return


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


__all__ = ["PrefectRunError", "flow_of", "quiet_console", "run_through_prefect"]

"""Starting a workflow run as a Prefect flow run from this process (the CLI, tests).

Without PREFECT_API_URL, Prefect serves its API from a temporary local server for the
length of the run (it costs seconds); with it, the run is recorded on that server.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from prefect import Flow
from prefect.logging.handlers import PrefectConsoleHandler

from flowscript.compiler.planner import Plan
from flowscript.prefect_backend.flow_builder import LAUNCH, Launch, build_flow
from flowscript.runtime.engine import RunOptions
from flowscript.runtime.errors import FlowScriptError
from flowscript.runtime.state import RunState


class PrefectRunError(FlowScriptError):
    default_code = "RUN_PREFECT_ERROR"


async def run_through_prefect(plan: Plan, config: dict[str, Any], run_input: Any, options: RunOptions, *,
                              resume: RunState | None = None, interactive: bool | None = None,
                              persist_results: bool = True, verbose: bool = False) -> Launch:
    """Runs (or resumes) the workflow as one flow run; the returned Launch holds its state and
    failure. Raises PrefectRunError when the flow run ended before the engine could start."""
    if not verbose:
        quiet_console()
    launch = Launch(options=options, resume=resume, interactive=interactive, approvals="terminal",
                    persist_results=persist_results)
    token = LAUNCH.set(launch)
    try:
        final = await flow_of(plan)(**config, input=run_input, return_state=True)
    finally:
        LAUNCH.reset(token)
    if launch.state is None:
        raise PrefectRunError(f"the Prefect flow run ended before the workflow started: {final.message}",
                              hint="see the flow run's logs in Prefect")
    return launch


_FLOWS: OrderedDict[int, tuple[Plan, Flow]] = OrderedDict()  # id(plan) -> (plan, its flow), the latest few


def flow_of(plan: Plan) -> Flow:
    """The plan's flow, built once (5-10 ms) for a process that runs the same workflow again."""
    kept = _FLOWS.get(id(plan))
    if kept is None or kept[0] is not plan:
        kept = _FLOWS[id(plan)] = (plan, build_flow(plan))
        while len(_FLOWS) > 8:
            _FLOWS.popitem(last=False)
    _FLOWS.move_to_end(id(plan))
    return kept[1]


def quiet_console() -> None:
    """Task and flow run logs still go to the Prefect API; the terminal shows only warnings."""
    for handler in logging.getLogger().handlers:  # Prefect's run loggers propagate to the root's console
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.WARNING)

"""What a run through Prefect shows on the terminal: Prefect's warnings, not its INFO lines, and
none of a run's expected outcomes, in this process and in the worker processes of a temporary
Dask cluster (whose output is this command's)."""

from __future__ import annotations

import asyncio
import logging
import os

from prefect.events.worker import EventsWorker
from prefect.logging.handlers import PrefectConsoleHandler
from prefect.task_engine import TaskRunTimeoutError

from flowscript.errors import FlowScriptError
from flowscript.signals import BreakSignal


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
    # nor its events worker's "Still processing items: 1 items remaining..." as the process exits
    EVENTS_WORKER_LOGGER.setLevel(logging.ERROR)


# Prefect's queue services log under their class's bare name ("EventsWorker", not "prefect.EventsWorker")
EVENTS_WORKER_LOGGER = logging.getLogger(EventsWorker.__name__)


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

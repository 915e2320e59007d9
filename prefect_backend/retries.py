"""The retry rules (docs/language.md#retries-and-fallback) as Prefect task retries: which failures
are retried and after how long.

Prefect asks `retry_condition_fn` before it reads the task's `retry_delay_seconds`, so the
condition also sets the delay of the coming retry: full jitter, or the server's Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.task_engine import TaskRunTimeoutError

from flowscript.errors import NodeTimeoutError
from flowscript.runtime.retry import RetrySettings, backoff_delay_s, is_retryable


def as_node_error(error: BaseException, settings: RetrySettings | None) -> BaseException:
    """Prefect's attempt timeout becomes the engine's retryable timeout error. A timeout is always
    retried, so the run's last one comes after every attempt of the policy."""
    if isinstance(error, TaskRunTimeoutError) and settings is not None:
        timeout = NodeTimeoutError(f"attempt timed out after {settings.timeout_s:g}s")
        timeout.attempts = settings.max_retries + 1  # type: ignore[attr-defined]
        return timeout
    return error


def retry_condition(settings: RetrySettings) -> Callable[[Any, Any, Any], bool]:
    """A `retry_condition_fn` for one node execution (a plain function: Prefect requires one)."""
    retries = 0

    def should_retry(task: Any, task_run: Any, state: Any) -> bool:
        nonlocal retries
        error = as_node_error(state.data, settings) if isinstance(state.data, BaseException) else None
        if error is None or not is_retryable(error):
            return False
        task.retry_delay_seconds = backoff_delay_s(retries, settings, error)
        retries += 1
        return True

    return should_retry

"""The Prefect-less backend: node executions run in this process, retried with tenacity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from flowscript.runtime.approval import ask_in_terminal
from flowscript.runtime.attempts import attempt_with_timeout
from flowscript.runtime.backend import ApprovalDecision, ApprovalRequest, NodeTask
from flowscript.runtime.retry import RetrySettings, backoff_delay_s, is_retryable


class LocalBackend:
    name = "local"

    def __init__(self, *, interactive: bool | None = None) -> None:
        self.interactive = interactive

    async def run_task(self, task: NodeTask) -> Any:
        settings = task.retry
        if settings is None:
            return await task.attempt()
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(settings.max_retries + 1),
            retry=retry_if_exception(is_retryable),
            wait=_full_jitter(settings),
            reraise=True,
        ):
            with attempt:
                return await attempt_with_timeout(task.attempt, settings.timeout_s)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        return await ask_in_terminal(request, interactive=self.interactive)

    def iteration_chunk_size(self, items: int) -> int | None:
        return None

    async def run_chunk(self, node_id: str, key: str, run: Callable[[], Awaitable[Any]]) -> Any:
        return await run()


def _full_jitter(settings: RetrySettings):
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return backoff_delay_s(state.attempt_number - 1, settings, error)

    return wait

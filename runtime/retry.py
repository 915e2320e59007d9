"""Retry rules shared by both backends (docs/language.md#retries-and-fallback): which errors are retried,
what a node's policy is, and how long to wait before the next attempt."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from flowscript.errors import NodeError
from flowscript.nodes.data import RetryPolicy

DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE_MS = 1000
DEFAULT_ATTEMPT_TIMEOUT_MS = 30000
MAX_DELAY_S = 32.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """A policy with its defaults filled in."""

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_ms: int = DEFAULT_BACKOFF_BASE_MS
    timeout_ms: int = DEFAULT_ATTEMPT_TIMEOUT_MS
    backoff: str = "exponential"

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> RetrySettings:
        return cls(
            max_retries=DEFAULT_MAX_RETRIES if policy.max_retries is None else policy.max_retries,
            backoff_base_ms=DEFAULT_BACKOFF_BASE_MS if policy.backoff_base_ms is None else policy.backoff_base_ms,
            timeout_ms=DEFAULT_ATTEMPT_TIMEOUT_MS if policy.timeout_ms is None else policy.timeout_ms,
            backoff=policy.backoff,
        )

    @property
    def timeout_s(self) -> float | None:
        return self.timeout_ms / 1000 if self.timeout_ms > 0 else None


def is_retryable(error: BaseException) -> bool:
    """HTTP 429/5xx, retryable AI errors, timeouts and transport errors; nothing else.

    User cancellation (CancelledError) is not an Exception and is never retried.
    """
    return isinstance(error, NodeError) and error.retryable


def backoff_delay_s(retry_index: int, settings: RetrySettings, error: BaseException | None = None,
                    rng: random.Random | None = None) -> float:
    """Delay before retry `retry_index` (0-based): full jitter in [0, min(32 s, base * 2^k)],
    `fixed` backoff uses base every time; a Retry-After answer sets the delay instead (capped)."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return min(MAX_DELAY_S, max(0.0, float(retry_after)))
    base_s = settings.backoff_base_ms / 1000
    if settings.backoff == "fixed":
        return min(MAX_DELAY_S, base_s)
    cap = min(MAX_DELAY_S, base_s * (2 ** min(retry_index, 30)))
    return (rng or random).uniform(0, cap)


async def retrying(settings: RetrySettings, attempt: Callable[[], Awaitable[T]], *, instant: bool = False) -> T:
    """Runs `attempt` until it succeeds, fails with an error that is not retryable, or has used
    its retries (tenacity, full-jitter waits; none when `instant`); raises the last error."""
    from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

    def wait(state: RetryCallState) -> float:
        if instant:
            return 0.0
        error = state.outcome.exception() if state.outcome else None
        return backoff_delay_s(state.attempt_number - 1, settings, error)

    async for attempted in AsyncRetrying(stop=stop_after_attempt(settings.max_retries + 1),
                                         retry=retry_if_exception(is_retryable), wait=wait, reraise=True):
        with attempted:
            return await attempt()
    raise AssertionError("unreachable: tenacity re-raises the last error")

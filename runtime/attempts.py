"""One attempt under its own timeout: the timeout cancels the work (HTTP request, sleep,
prompt) and becomes a retryable NodeTimeoutError."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from flowscript.errors import NodeTimeoutError


async def attempt_with_timeout(attempt: Callable[[], Awaitable[Any]], timeout_s: float | None) -> Any:
    if timeout_s is None:
        return await attempt()
    try:
        async with asyncio.timeout(timeout_s):
            return await attempt()
    except TimeoutError:
        raise NodeTimeoutError(f"attempt timed out after {timeout_s:g}s") from None

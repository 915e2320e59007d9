"""A FIFO counting semaphore with direct hand-off (docs/language.md#runs-and-waves).

`release()` gives the permit straight to the oldest waiter instead of returning it to the
pool, so a late arrival can never overtake a waiter: permits are granted in request order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class FifoSemaphore:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._permits = capacity
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def available(self) -> int:
        return self._permits

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        if self._permits > 0 and not self._waiters:
            self._permits -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # it was handed a permit just as it was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # hand-off: the permit goes to the waiter directly
                return
        self._permits += 1

    async def __aenter__(self) -> FifoSemaphore:
        await self.acquire()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()

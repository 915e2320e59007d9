"""Tag concurrency limits: one read per run and every 5 s, instead of a write per task run.

Prefect honours tag concurrency limits (`prefect concurrency-limit create source:http 2`
caps every task run tagged `source:http`, in every flow). Before each tagged task run its
task engine asks the API for a slot of each tag's limit; when the answer is "no limit for
these tags" it remembers that for 5 s. The ask is a write transaction, and on a
SQLite-backed API (the temporary one `flowscript run` starts, a default `prefect server
start`) it often fails while the server records events (SQLITE_BUSY, HTTP 503): Prefect's
client asks again 2 s later and every task run with those tags waits. Our task runs are
tagged (node kind and `flowscript`), so a hand-written flow without tags would not pay it.

So the backend lists the existing limits itself (a read, which does not fail that way), at
the start of the run and then at most every 5 s, and gives Prefect's cache the answer for
tag sets that have none; Prefect then skips its ask. A tag set with a limit is taken out of
that cache, so Prefect asks and takes its slot as usual: a limit made before a run starts
counts for all of it. Where Prefect keeps no such cache (another version), nothing is
primed and Prefect asks as it would without us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from prefect.context import TagsContext

from flowscript.prefect_backend.concurrency import LimitNames

FRESH_FOR_S = 5.0  # as long as Prefect trusts its own "no limit" answer
log = logging.getLogger(__name__)


def _prefect_no_limit_cache() -> tuple[Any, AbstractContextManager[Any]] | None:
    """Prefect 3.8's cache of tag sets without limits (frozenset of `tag:` names -> True), and
    the lock its acquisition threads hold around it."""
    try:
        from prefect.concurrency import services
    except ImportError:
        return None
    cache = getattr(services, "_no_limits_cache", None)
    if not (hasattr(cache, "__setitem__") and hasattr(cache, "pop")):
        return None
    return cache, getattr(services, "_cache_lock", None) or contextlib.nullcontext()


def prime_no_limits(tag_sets: Iterable[frozenset[str]]) -> None:
    """Prefect's cache told that these sets of `tag:` names have no limit (for 5 s)."""
    found = _prefect_no_limit_cache()
    if found is not None:
        cache, lock = found
        with lock:
            for names in tag_sets:
                cache[names] = True


class TagLimits:
    """What this run knows of the API's limits, and the priming of Prefect's cache with it."""

    def __init__(self, read: Callable[[], Awaitable[LimitNames]], known: LimitNames | None = None) -> None:
        self._read = read
        self._names: frozenset[str] | None = known.names if known is not None else None
        self._read_at = time.monotonic() if known is not None else 0.0
        self._refreshing = asyncio.Lock()
        self._prefect = _prefect_no_limit_cache()

    async def prime(self, tags: Iterable[str]) -> None:
        """Before a task run with `tags`: tell Prefect they have no limit, when that is so."""
        if self._prefect is None:
            return
        names = frozenset(f"tag:{tag}" for tag in {*tags, *(TagsContext.get().current_tags or ())})
        existing = await self._existing()
        if existing is None:
            return
        cache, lock = self._prefect
        with lock:
            if names & existing:  # a limit made since Prefect last asked counts from now, not in 5 s
                cache.pop(names, None)
            else:
                cache[names] = True

    async def free_sets(self, tag_sets: Iterable[Iterable[str]]) -> list[frozenset[str]]:
        """Of these tag sets (with the context's tags), as `tag:` names, those without a limit now."""
        existing = await self._existing()
        if existing is None:
            return []
        extra = TagsContext.get().current_tags or ()
        sets = [frozenset(f"tag:{tag}" for tag in {*tags, *extra}) for tags in tag_sets]
        return [names for names in sets if not names & existing]

    async def _existing(self) -> frozenset[str] | None:
        if time.monotonic() - self._read_at < FRESH_FOR_S:
            return self._names
        async with self._refreshing:
            if time.monotonic() - self._read_at >= FRESH_FOR_S:
                try:
                    self._names = (await self._read()).names
                except Exception as error:  # Prefect asks the API itself, as without us
                    log.debug("could not list concurrency limits: %s", error)
                    self._names = None
                self._read_at = time.monotonic()
        return self._names

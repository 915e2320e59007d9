"""A cap shared by every run of one workflow: a Prefect global concurrency limit.

A run's own cap is `max_concurrency` (the engine's semaphore, one per run). When runs of
the same workflow must share a cap (they call the same rate-limited API, say), an operator
creates a global concurrency limit named `flowscript-<workflow>`:

    prefect gcl create flowscript-order-report --limit 5

and every data-node execution (sources, transforms, sinks: the nodes that do the work;
control nodes only wait for theirs, so they hold no slot and cannot deadlock) takes one
slot of it while it runs. Without such a limit nothing is acquired and nothing is paid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prefect.client.orchestration import get_client

PAGE = 200  # the most the API returns per request


@dataclass(frozen=True)
class LimitNames:
    """The API's global concurrency limits by name (tag limits are named `tag:<tag>`)."""

    names: frozenset[str]
    active: frozenset[str]


async def read_limits() -> LimitNames:
    """Every global concurrency limit, in one request per 200."""
    names: set[str] = set()
    active: set[str] = set()
    async with get_client() as client:
        offset = 0
        while True:
            page = await client.read_global_concurrency_limits(limit=PAGE, offset=offset)
            names.update(limit.name for limit in page)
            active.update(limit.name for limit in page if limit.active)
            if len(page) < PAGE:
                return LimitNames(frozenset(names), frozenset(active))
            offset += PAGE


def workflow_limit_name(workflow_id: str) -> str:
    return "flowscript-" + (re.sub(r"[^a-z0-9]+", "-", workflow_id.lower()).strip("-") or "workflow")


def shared_limit(limits: LimitNames, workflow_id: str) -> str | None:
    """The workflow's global concurrency limit, when one exists and is active."""
    name = workflow_limit_name(workflow_id)
    return name if name in limits.active else None

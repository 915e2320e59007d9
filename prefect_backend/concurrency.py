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

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound


def workflow_limit_name(workflow_id: str) -> str:
    return "flowscript-" + (re.sub(r"[^a-z0-9]+", "-", workflow_id.lower()).strip("-") or "workflow")


async def shared_limit(workflow_id: str) -> str | None:
    """The workflow's global concurrency limit, when one exists and is active (one API call per run)."""
    name = workflow_limit_name(workflow_id)
    async with get_client() as client:
        try:
            limit = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            return None
    return name if limit.active else None

"""The backend seam (PRODUCT.md, "One engine, two backends").

The engine decides what runs, in which order, with which input and config; a backend
decides only how one node execution is carried out (in this process, or as a Prefect
task run) and how a checkpoint asks for approval.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from flowscript.runtime.retry import RetrySettings

Action = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True)
class NodeTask:
    """One node execution as a backend sees it."""

    node_id: str
    key: str  # result key: "save", or "each[3].fmt" inside an iteration
    tag: str  # the node's kind: "source:http", "foreach"...
    attempt: Callable[[], Awaitable[Any]]  # one attempt; the backend retries it per `retry`
    retry: RetrySettings | None  # None: run once, no attempt timeout


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    checkpoint_id: str
    key: str
    prompt: str
    timeout_s: float | None
    default: Action
    input: Any


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    action: Action
    timed_out: bool
    responded_at: str
    by: str  # "terminal user", "default (timeout)", "default (no one to ask)", a Prefect user...
    comment: str | None = None


class Backend(Protocol):
    name: str

    async def run_task(self, task: NodeTask) -> Any:
        """Runs the task's attempts (retrying retryable errors per its policy); returns the
        output or raises the last error."""
        ...

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        ...

    def iteration_chunk_size(self, items: int) -> int | None:
        """How many foreach iterations to group into one unit of work (None: no grouping).
        A Prefect server copes badly with thousands of task runs per flow run."""
        ...

    async def run_chunk(self, node_id: str, key: str, run: Callable[[], Awaitable[Any]]) -> Any:
        """Runs a group of iterations as one unit (for Prefect: one task run)."""
        ...

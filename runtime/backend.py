"""The backend seam (docs/architecture.md, "The backend seam").

The engine decides what runs, in which order, with which input and config; a backend
decides only how one node execution is carried out (in this process, or as a Prefect
task run) and how a checkpoint asks for approval. A data node's execution arrives as a
value (`NodeExecution`) and its answer leaves as plain JSON; a control node runs in the
engine's process, so the backend only wraps it (the Prefect backend: a task run under
which its body's executions hang).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from flowscript.nodes.base import ApprovalDecision, ApprovalRequest
from flowscript.runtime.chunks import ChunkDone, ChunkExecution
from flowscript.runtime.execution import NodeExecution, Resources

__all__ = ["ApprovalDecision", "ApprovalRequest", "Backend", "ChunkDone", "ChunkExecution", "NodeExecution"]


class Backend(Protocol):
    name: str

    async def run_node(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        """Carries out a data node's execution, retrying retryable errors per `execution.retry`.
        Returns `execute`'s answer plus `attempts`; raises the last error (its `attempts` set).
        `resources` are this process's (secret values, HTTP client): a backend that runs the
        execution elsewhere looks them up there instead."""
        ...

    async def run_control(self, node_id: str, key: str, tag: str, run: Callable[[], Awaitable[Any]],
                          upstream: tuple[str, ...] = ()) -> Any:
        """Runs a control node's execution (in this process); returns its output. `upstream`:
        the keys of the executions it depends on."""
        ...

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        ...

    def iteration_chunk_size(self, items: int) -> int | None:
        """How many foreach iterations to group into one unit of work (None: no grouping).
        A Prefect server copes badly with thousands of task runs per flow run."""
        ...

    async def run_chunk(self, chunk: ChunkExecution, resources: Resources) -> ChunkDone:
        """Runs a chunk of foreach iterations as one unit (for Prefect: one task run), with
        `execute_chunk` wherever it runs them."""
        ...

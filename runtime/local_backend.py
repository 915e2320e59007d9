"""The Prefect-less backend: node executions run in this process, retried with tenacity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from flowscript.nodes.base import ApprovalDecision, ApprovalRequest
from flowscript.runtime.approval import answered, ask_in_terminal
from flowscript.runtime.attempts import attempt_with_timeout
from flowscript.runtime.execution import NodeExecution, Resources, execute

if TYPE_CHECKING:
    from flowscript.runtime.chunks import ChunkDone, ChunkExecution
from flowscript.runtime.retry import retrying


class LocalBackend:
    """`approvals`: checkpoints answered from a mapping (the Python API) instead of a terminal;
    `instant_retries`: retries as the policy says, without the waits between them (tests)."""

    name = "local"

    def __init__(self, *, interactive: bool | None = None, approvals: Mapping[str, Any] | None = None,
                 instant_retries: bool = False) -> None:
        self.interactive = interactive
        self.approvals = approvals
        self.instant_retries = instant_retries

    async def run_node(self, execution: NodeExecution, resources: Resources) -> dict[str, Any]:
        return await run_with_retries(execution, resources, instant=self.instant_retries)

    async def run_control(self, node_id: str, key: str, tag: str, run: Callable[[], Awaitable[Any]],
                          upstream: tuple[str, ...] = ()) -> Any:
        return await run()

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision:
        if self.approvals is not None:
            return answered(request, self.approvals)
        return await ask_in_terminal(request, interactive=self.interactive)

    def iteration_chunk_size(self, items: int) -> int | None:
        return None

    async def run_chunk(self, chunk: ChunkExecution, resources: Resources) -> ChunkDone:
        from flowscript.runtime.chunks import execute_chunk

        return await execute_chunk(chunk, resources)


async def run_with_retries(execution: NodeExecution, resources: Resources, *, instant: bool = False
                           ) -> dict[str, Any]:
    """`execute` under the execution's retry policy (each attempt under its own timeout); the
    answer says how many attempts it took, and so does the error it gives up with."""
    attempts = 0

    async def attempt() -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        return await execute(execution, resources)

    settings = execution.retry
    try:
        if settings is None:
            answer = await attempt()
        else:
            answer = await retrying(settings, lambda: attempt_with_timeout(attempt, settings.timeout_s),
                                    instant=instant)
    except BaseException as error:
        error.attempts = attempts  # type: ignore[attr-defined]
        raise
    return {**answer, "attempts": attempts}

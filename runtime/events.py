"""What a run tells its observer (the progress display, Prefect logs, tests): waves, nodes, items."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowscript.nodes.base import Node
    from flowscript.runtime.state import NodeResult, RunState


class RunEvents:
    """Does nothing; the CLI's progress display and tests override what they need."""

    def run_started(self, state: RunState, total_waves: int) -> None: ...

    def wave_started(self, number: int, node_ids: tuple[str, ...]) -> None: ...

    def node_started(self, key: str, node: Node) -> None: ...

    def node_finished(self, key: str, result: NodeResult) -> None: ...

    def fallback_started(self, key: str, fallback_id: str) -> None: ...

    def approval_wait(self, key: str, *, waiting: bool) -> None:
        """Called around a checkpoint's question, so a display can step aside for the prompt."""

    def items_progress(self, key: str, done: int, total: int) -> None: ...

    def run_finished(self, state: RunState) -> None: ...

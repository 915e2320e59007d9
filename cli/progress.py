"""Progress on a terminal (waves, nodes, foreach items); nothing when output is not a terminal."""

from __future__ import annotations

import sys
from typing import Any

from flowscript.runtime.events import RunEvents


def progress_for(enabled: bool | None = None) -> RunEvents:
    if not (sys.stderr.isatty() if enabled is None else enabled):
        return RunEvents()
    return RichProgress()


class RichProgress(RunEvents):
    """A rich progress display on stderr: one bar for the run's nodes, one per running foreach."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self._nodes: Any = None
        self._items: dict[str, Any] = {}
        self._total_waves = 0

    def run_started(self, state: Any, total_waves: int) -> None:
        self._total_waves = total_waves
        self._progress.start()
        self._nodes = self._progress.add_task(f"{state.workflow_id}", total=None)

    def wave_started(self, number: int, node_ids: tuple[str, ...]) -> None:
        self._progress.update(self._nodes, description=f"wave {number + 1}/{self._total_waves}: "
                              f"{', '.join(node_ids)[:60]}")

    def node_finished(self, key: str, result: Any) -> None:
        if "[" not in key:
            self._progress.advance(self._nodes)

    def approval_wait(self, key: str, *, waiting: bool) -> None:
        if waiting:
            self._progress.stop()
        else:
            self._progress.start()

    def items_progress(self, key: str, done: int, total: int) -> None:
        task = self._items.get(key)
        if task is None:
            task = self._items[key] = self._progress.add_task(f"  {key} items", total=total)
        self._progress.update(task, completed=done)

    def run_finished(self, state: Any) -> None:
        self._progress.stop()

"""foreach (FLOWSCRIPT.md 5.5): the body once per item, in order or up to `concurrency` at once.

Output: a list with, at each item's index, the output of its iteration's last body node.
A `<break/>` in a sequential foreach ends the loop (the output holds the iterations
completed before it); in a concurrent one it ends only its own iteration (its slot is null).
When an iteration fails, no new iteration starts, the running ones finish, and the foreach
fails with that error. A backend may group the iterations into chunks (the Prefect backend
does above a threshold); chunks run one after the other, each under the same concurrency.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flowscript.compiler.ast import ForeachNode
from flowscript.runtime.executor import Executor, WithMeta
from flowscript.runtime.nodes.iterations import iteration_frame, summarize
from flowscript.runtime.scope import Frame
from flowscript.runtime.signals import BreakSignal


def as_items(collection: Any) -> list[Any]:
    """A list as is; any other value, null included, as a one-item list (FLOWSCRIPT.md 5.5)."""
    return collection if isinstance(collection, list) else [collection]


class _Iterations:
    """One foreach execution: its items, their frames and outputs, and progress."""

    def __init__(self, ex: Executor, node: ForeachNode, frame: Frame, items: list[Any], concurrency: int) -> None:
        self.ex, self.node, self.frame, self.items = ex, node, frame, items
        self.concurrency = concurrency
        self.key = frame.key(node.id)
        self.frames: list[Frame | None] = [None] * len(items)
        self.outputs: list[Any] = [None] * len(items)
        self.done = 0
        self.broke_at: int | None = None  # sequential break: iterations before it are the output

    async def one(self, i: int) -> None:
        bindings = {self.node.item: self.items[i], self.node.index: i}
        self.frames[i] = iteration_frame(self.frame, self.node, i, bindings)
        self.outputs[i] = await self.ex.run_body(self.node.body, self.frames[i], self.items[i])
        self.done += 1
        self.ex.run.events.items_progress(self.key, self.done, len(self.items))

    async def sequential(self, indices: range) -> None:
        for i in indices:
            try:
                await self.one(i)
            except BreakSignal as signal:
                if signal.loop_id not in (None, self.node.id):
                    raise
                self.broke_at = i
                return

    async def concurrent(self, indices: range) -> None:
        """`concurrency` workers take the next index in turn: O(concurrency) tasks, not one per item."""
        pending = iter(indices)
        failure: BaseException | None = None

        async def worker() -> None:
            nonlocal failure
            for i in pending:
                if failure is not None:
                    return
                try:
                    await self.one(i)
                except BreakSignal:
                    self.outputs[i] = None  # a break ends only its own iteration
                except Exception as error:
                    failure = failure or error
                    return

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(indices)))))
        if failure is not None:
            raise failure

    async def run(self, indices: range) -> None:
        await (self.sequential(indices) if self.concurrency == 1 else self.concurrent(indices))

    def output(self) -> list[Any]:
        return self.outputs if self.broke_at is None else self.outputs[: self.broke_at]


async def run_foreach(ex: Executor, node: ForeachNode, frame: Frame, input: Any) -> Any:
    scope = ex.scope(frame, input)
    items = as_items(ex.evaluate(node.collection, scope))
    concurrency = ex.whole_number(node.concurrency, scope, "foreach concurrency", 1, minimum=1) or 1
    iterations = _Iterations(ex, node, frame, items, concurrency)
    chunk = ex.run.backend.iteration_chunk_size(len(items))
    try:
        if chunk is None:
            await iterations.run(range(len(items)))
        else:
            for start in range(0, len(items), chunk):
                indices = range(start, min(start + chunk, len(items)))
                await ex.run.backend.run_chunk(node.id, f"{iterations.key}[{start}-{indices.stop - 1}]",
                                               lambda indices=indices: iterations.run(indices))
                if iterations.broke_at is not None:
                    break
    finally:
        summarize(ex, frame, iterations.frames)
    chunks = {} if chunk is None else {"chunkSize": chunk}
    return WithMeta(iterations.output(),
                    {"items": len(items), "iterations": sum(f is not None for f in iterations.frames), **chunks})

"""foreach (FLOWSCRIPT.md 5.5): the body once per item, in order or up to `concurrency` at once.

Output: a list with, at each item's index, the output of its iteration's last body node.
A `<break/>` in a sequential foreach ends the loop (the output holds the iterations
completed before it); in a concurrent one it ends only its own iteration (its slot is null).
When an iteration fails, no new iteration starts, the running ones finish, and the foreach
fails with that error.
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


async def run_foreach(ex: Executor, node: ForeachNode, frame: Frame, input: Any) -> Any:
    scope = ex.scope(frame, input)
    items = as_items(ex.evaluate(node.collection, scope))
    concurrency = ex.whole_number(node.concurrency, scope, "foreach concurrency", 1, minimum=1) or 1
    frames: list[Frame | None] = [None] * len(items)
    key = frame.key(node.id)

    def start(i: int) -> Frame:
        frames[i] = iteration_frame(frame, node, i, {node.item: items[i], node.index: i})
        return frames[i]

    try:
        if concurrency == 1:
            outputs = await _sequential(ex, node, items, start, key)
        else:
            outputs = await _concurrent(ex, node, items, start, key, concurrency)
    finally:
        summarize(ex, frame, frames)
    return WithMeta(outputs, {"items": len(items), "iterations": sum(f is not None for f in frames)})


async def _sequential(ex: Executor, node: ForeachNode, items: list[Any], start: Any, key: str) -> list[Any]:
    outputs: list[Any] = []
    for i, item in enumerate(items):
        try:
            outputs.append(await ex.run_body(node.body, start(i), item))
        except BreakSignal as signal:
            if signal.loop_id not in (None, node.id):
                raise
            break
        ex.run.events.items_progress(key, i + 1, len(items))
    return outputs


async def _concurrent(ex: Executor, node: ForeachNode, items: list[Any], start: Any, key: str,
                      concurrency: int) -> list[Any]:
    """`concurrency` workers take the next index in turn: O(concurrency) tasks, not one per item."""
    outputs: list[Any] = [None] * len(items)
    next_index = 0
    done = 0
    failure: BaseException | None = None

    async def worker() -> None:
        nonlocal next_index, done, failure
        while failure is None and next_index < len(items):
            i = next_index
            next_index += 1
            try:
                outputs[i] = await ex.run_body(node.body, start(i), items[i])
            except BreakSignal:
                outputs[i] = None  # a break ends only its own iteration
            except Exception as error:
                failure = failure or error
                return
            done += 1
            ex.run.events.items_progress(key, done, len(items))

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(items)))))
    if failure is not None:
        raise failure
    return outputs

"""`<foreach collection="..." item="x" index="i" concurrency="N">`: the body once per item, in
order or up to `concurrency` at once (docs/language.md#foreach).

Output: a list with, at each item's index, the output of its iteration's last body node.
A `<break/>` in a sequential foreach ends the loop (the output holds the iterations
completed before it); in a concurrent one it ends only its own iteration (its slot is null).
When an iteration fails, no new iteration starts, the running ones finish, and the foreach
fails with that error. A backend may take the iterations in chunks (the Prefect backend
does above a threshold): a sequential foreach runs them one after the other; a concurrent
one runs several at once, sharing its concurrency between them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.nodes.base import (
    Body,
    BodyItem,
    ControlNode,
    ControlStep,
    Iterations,
    NodeReader,
    Site,
    WithMeta,
    site,
    walk,
)
from flowscript.signals import BreakSignal
from flowscript.syntax.xml_reader import Element

_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(kw_only=True, slots=True)
class ForeachNode(ControlNode):
    """`<foreach>`: its body once per item, up to `concurrency` at once."""

    kind = "foreach"
    value_sites = frozenset({"collection"})
    collection: str
    item: str = "item"
    index: str = "index"
    concurrency: str | None = None  # None: 1 (sequential)
    body: list[BodyItem] = field(default_factory=list)

    def bodies(self) -> list[Body]:
        return [Body(self.body, frozenset({self.item, self.index}))]

    def sites(self) -> Iterator[Site]:
        yield from site(self, "collection", self.collection, "expression")
        yield from site(self, "concurrency", self.concurrency, "template")

    async def run(self, step: ControlStep) -> Any:
        items = as_items(step.evaluate(self.collection))
        concurrency = step.whole_number(self.concurrency, "foreach concurrency", 1, minimum=1) or 1
        done = Iterations()
        chunk = step.chunk_size(len(items)) if all(n.runs_anywhere for n in walk(self.body)) else None
        try:
            if chunk is None:
                await self.iterate(step, items, range(len(items)), concurrency, done)
            else:
                await _in_chunks(step, items, chunk, concurrency, done)
        finally:
            step.summarize([done.results[i] for i in sorted(done.results)])
        if done.failure is not None:
            raise done.failure
        outputs = [done.outputs.get(i) for i in range(len(items) if done.broke_at is None else done.broke_at)]
        chunks = {} if chunk is None else {"chunkSize": chunk}
        return WithMeta(outputs, {"items": len(items), "iterations": len(done.results), **chunks})

    async def iterate(self, step: ControlStep, items: list[Any], indices: range, concurrency: int,
                      into: Iterations) -> None:
        """Runs iterations `indices`, in order or `concurrency` at once, recording their outcome
        `into`; wherever it runs (the flow's process, or a chunk on a worker), the same rules."""
        await _Iterations(step, self, items, concurrency, into).run(indices)

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> ForeachNode:
        names = ("collection", "item", "index", "concurrency")
        values, rest = reader.fields(el, names, names)
        base = reader.base(el, values)
        bound: dict[str, str] = {}
        for name in ("item", "index"):
            text, offset = values.get(name, (name, el.offset))
            if not _NAME.fullmatch(text):
                reader.report("VALID_INVALID_FIELD_TYPE", f"{name} of <foreach> must be a name, not '{text}'", offset,
                              hint="letters, digits, _ and $, not starting with a digit")
                text = name
            bound[name] = text
        if bound["item"] == bound["index"]:
            reader.report("VALID_INVALID_FIELD_TYPE", "item and index of <foreach> have the same name",
                          values.get("index", ("", el.offset))[1])
        return cls(**base, collection=reader.required(el, values, "collection"), item=bound["item"],
                   index=bound["index"], concurrency=reader.number(el, values, "concurrency", 1),
                   body=reader.body(rest, (*loops, base["id"])))


async def _in_chunks(step: ControlStep, items: list[Any], size: int, concurrency: int, done: Iterations) -> None:
    """Chunks one after the other when the foreach is sequential (a break ends it); else up to
    `concurrency` chunks at once, the concurrency shared between them, so no more iterations
    than `concurrency` ever run at once and a cluster's workers each take chunks."""
    chunks = [range(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    at_once = 1 if concurrency == 1 else min(len(chunks), concurrency)
    pending = iter(chunks)

    async def take() -> None:
        for indices in pending:
            if done.broke_at is not None or done.failure is not None:
                return
            await step.run_chunk(items, indices, max(1, concurrency // at_once), done)

    await asyncio.gather(*(take() for _ in range(at_once)))


def as_items(collection: Any) -> list[Any]:
    """A list as is; any other value, null included, as a one-item list."""
    return collection if isinstance(collection, list) else [collection]


class _Iterations:
    """One run of some iterations: their lanes, outputs, progress."""

    def __init__(self, step: ControlStep, node: ForeachNode, items: list[Any], concurrency: int,
                 into: Iterations) -> None:
        self.step, self.node, self.items, self.concurrency, self.into = step, node, items, concurrency, into

    async def one(self, i: int) -> None:
        lane = self.step.lane({self.node.item: self.items[i], self.node.index: i}, iteration=i)
        try:
            self.into.outputs[i] = await lane.run_body(self.node.body, self.items[i])
        finally:
            self.into.results[i] = dict(lane.results())
        self.step.progress(len(self.into.results), len(self.items))

    async def sequential(self, indices: range) -> None:
        for i in indices:
            try:
                await self.one(i)
            except BreakSignal as signal:
                if signal.loop_id not in (None, self.node.id):
                    raise
                self.into.broke_at = i
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
                    self.into.outputs[i] = None  # a break ends only its own iteration
                except Exception as error:
                    failure = failure or error
                    return

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(indices)))))
        if failure is not None:
            raise failure

    async def run(self, indices: range) -> None:
        await (self.sequential(indices) if self.concurrency == 1 else self.concurrent(indices))

"""`<foreach collection="..." item="x" index="i" concurrency="N">`: the body once per item, in
order or up to `concurrency` at once (docs/language.md#foreach).

Output: a list with, at each item's index, the output of its iteration's last body node.
A `<break/>` in a sequential foreach ends the loop (the output holds the iterations
completed before it); in a concurrent one it ends only its own iteration (its slot is null).
When an iteration fails, no new iteration starts, the running ones finish, and the foreach
fails with that error. A backend may take the iterations in chunks (the Prefect backend
does above a threshold); chunks run one after the other, each under the same concurrency.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, Lane, NodeReader, Site, WithMeta, site
from flowscript.signals import BreakSignal
from flowscript.syntax.xml_reader import Element

_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(kw_only=True, slots=True)
class ForeachNode(ControlNode):
    kind = "foreach"
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
        iterations = _Iterations(step, self, items, concurrency)
        chunk = step.chunk_size(len(items))
        try:
            if chunk is None:
                await iterations.run(range(len(items)))
            else:
                for start in range(0, len(items), chunk):
                    indices = range(start, min(start + chunk, len(items)))
                    await step.run_chunk(f"{step.key}[{start}-{indices.stop - 1}]",
                                         lambda indices=indices: iterations.run(indices))  # type: ignore[misc]
                    if iterations.broke_at is not None:
                        break
        finally:
            step.summarize(iterations.lanes)
        chunks = {} if chunk is None else {"chunkSize": chunk}
        return WithMeta(iterations.output(),
                        {"items": len(items), "iterations": sum(lane is not None for lane in iterations.lanes),
                         **chunks})

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


def as_items(collection: Any) -> list[Any]:
    """A list as is; any other value, null included, as a one-item list."""
    return collection if isinstance(collection, list) else [collection]


class _Iterations:
    """One foreach execution: its items, their lanes and outputs, and progress."""

    def __init__(self, step: ControlStep, node: ForeachNode, items: list[Any], concurrency: int) -> None:
        self.step, self.node, self.items, self.concurrency = step, node, items, concurrency
        self.lanes: list[Lane | None] = [None] * len(items)
        self.outputs: list[Any] = [None] * len(items)
        self.done = 0
        self.broke_at: int | None = None  # sequential break: iterations before it are the output

    async def one(self, i: int) -> None:
        lane = self.lanes[i] = self.step.lane({self.node.item: self.items[i], self.node.index: i}, iteration=i)
        self.outputs[i] = await lane.run_body(self.node.body, self.items[i])
        self.done += 1
        self.step.progress(self.done, len(self.items))

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

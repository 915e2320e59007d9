"""`<parallel wait=".." merge=".." concurrency="N">` with `<branch>` bodies: branches run
concurrently, each in a lane of its own with `$branch` (docs/language.md#parallel).

`wait="all"` waits for every branch (branch order); `any` and `n(K)` take the first K
branches to succeed (completion order) and cancel the rest, failing only when too few
branches can still succeed. `merge` turns the waited outputs (`$branches`) into the output:
`array`, `concat`, `object`, or an expression over `$branches`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, NodeReader, Report, Site, site
from flowscript.nodes.semaphore import FifoSemaphore
from flowscript.signals import BreakSignal, NodeFailed
from flowscript.syntax.source import Location
from flowscript.syntax.xml_reader import Element, Text

MERGE_KEYWORDS = frozenset({"array", "concat", "object"})
BRANCH = frozenset({"$branch"})
_WAIT = re.compile(r"all|any|n\(([0-9]{1,9})\)")


@dataclass(kw_only=True, slots=True)
class ParallelBranch:
    """One `<branch>` of a parallel: its nodes run in a lane of their own."""

    body: list[BodyItem] = field(default_factory=list)
    location: Location


@dataclass(kw_only=True, slots=True)
class ParallelNode(ControlNode):
    """`<parallel>`: its branches at once, each in a lane of its own."""

    kind = "parallel"
    value_sites = frozenset({"merge"})
    branches: list[ParallelBranch]
    concurrency: str | None = None  # None: the run's max concurrency
    wait: str = "all"  # all | any | n(K)
    merge: str = "array"  # array | concat | object | an expression over $branches

    def bodies(self) -> list[Body]:
        return [Body(b.body, BRANCH) for b in self.branches]

    def sites(self) -> Iterator[Site]:
        yield from site(self, "concurrency", self.concurrency, "template")
        if self.merge not in MERGE_KEYWORDS:
            yield from site(self, "merge", self.merge, "expression", frozenset({"$branches"}))

    def wanted(self) -> int | None:
        """How many branches must succeed (None: `wait` is not all, any or n(K))."""
        match = _WAIT.fullmatch(self.wait)
        if match is None:
            return None
        return len(self.branches) if self.wait == "all" else 1 if self.wait == "any" else int(match.group(1))

    def check(self, report: Report) -> None:
        wanted = self.wanted()
        if wanted is not None and self.wait != "all" and not 1 <= wanted <= len(self.branches):
            total = len(self.branches)
            report("VALID_INVALID_FIELD_TYPE", f"parallel '{self.id}' waits for {wanted} branches but has {total}",
                   self.location_of("wait"), hint=f"K must be between 1 and {total}")

    async def run(self, step: ControlStep) -> Any:
        limit = step.whole_number(self.concurrency, "parallel concurrency", step.max_concurrency, minimum=1)
        semaphore = FifoSemaphore(limit or 1)
        lanes = [step.lane({"$branch": i}) for i in range(len(self.branches))]

        async def branch(i: int) -> Any:
            async with semaphore:
                return await lanes[i].run_body(self.branches[i].body, step.input)

        wanted = min(self.wanted() or len(self.branches), len(self.branches))
        try:
            if self.wait == "all":
                outputs = await _all(branch, len(self.branches))
            else:
                outputs = await _first(branch, len(self.branches), wanted)
        finally:
            step.adopt(lanes)  # what the branches produced is visible after the parallel
            if self.wait != "all":  # nodes of cancelled branches that never finished: skipped
                step.skip_unfinished([item for b in self.branches for item in b.body])
        return self.merged(step, outputs)

    def merged(self, step: ControlStep, branches: list[Any]) -> Any:
        match self.merge:
            case "array":
                return branches
            case "concat":
                return [x for b in branches for x in (b if isinstance(b, list) else [b])]
            case "object":
                merged: dict[str, Any] = {}
                for b in branches:
                    if isinstance(b, dict):
                        merged.update(b)
                return merged
            case expression:
                return step.evaluate(expression, {"$branches": branches})

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> ParallelNode:
        names = ("concurrency", "wait", "merge")
        values, rest = reader.fields(el, names, names)
        base = reader.base(el, values)
        branches: list[ParallelBranch] = []
        for child in rest:
            if isinstance(child, Text):
                reader.no_text(child)
            elif child.tag == "branch":
                branches.append(ParallelBranch(body=reader.container(child, loops), location=reader.loc(child.offset)))
            elif child.tag in reader.node_tags:
                reader.misplaced(child, "parallel", "wrap each branch's nodes in <branch>...</branch>")
            else:
                reader.unknown_child(child, "parallel", ("branch",))
        if not branches:
            reader.report("VALID_MISSING_REQUIRED_FIELD", "<parallel> needs at least one <branch>", el.offset)
        wait = values.get("wait", ("all", el.offset))
        match = _WAIT.fullmatch(wait[0])
        if match is None or (match.group(1) is not None and not match.group(1).strip("0")):
            reader.report("VALID_INVALID_FIELD_TYPE", f"wait of <parallel> is '{wait[0]}'", wait[1],
                          hint="allowed: all, any, n(K) with K a whole number of at least 1")
        merge = values.get("merge", ("array", el.offset))
        if not merge[0]:
            reader.report("VALID_INVALID_FIELD_TYPE", "merge of <parallel> is empty", merge[1],
                          hint="array, concat, object, or an expression over $branches")
        return cls(**base, branches=branches, concurrency=reader.number(el, values, "concurrency", 1),
                   wait=wait[0], merge=merge[0] or "array")


async def _all(branch: Callable[[int], Awaitable[Any]], count: int) -> list[Any]:
    results = await asyncio.gather(*(branch(i) for i in range(count)), return_exceptions=True)
    for result in results:
        if isinstance(result, BreakSignal | asyncio.CancelledError):
            raise result
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return list(results)


async def _first(branch: Callable[[int], Awaitable[Any]], count: int, wanted: int) -> list[Any]:
    tasks = [asyncio.ensure_future(branch(i)) for i in range(count)]
    outputs: list[Any] = []
    failed: list[BaseException] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                outputs.append(await next_done)
            except NodeFailed as error:
                failed.append(error)
                if count - len(failed) < wanted:
                    raise
            if len(outputs) >= wanted:
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return outputs

"""parallel (FLOWSCRIPT.md 5.5): branches concurrently, each in its own frame with `$branch`.

`wait="all"` waits for every branch (branch order); `any` and `n(K)` take the first K
branches to succeed (completion order) and cancel the rest, failing only when too few
branches can still succeed. `merge` turns the waited outputs (`$branches`) into the output.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from flowscript.compiler.ast import ParallelNode, walk
from flowscript.runtime.executor import Executor
from flowscript.runtime.scope import Frame
from flowscript.runtime.semaphore import FifoSemaphore
from flowscript.runtime.signals import BreakSignal, NodeFailed
from flowscript.runtime.state import NodeResult, now_iso

_N_OF = re.compile(r"^n\((\d+)\)$")


def wanted_branches(wait: str, total: int) -> int:
    if wait == "any":
        return 1
    match = _N_OF.match(wait)
    return min(total, int(match.group(1))) if match else total


async def run_parallel(ex: Executor, node: ParallelNode, frame: Frame, input: Any) -> Any:
    scope = ex.scope(frame, input)
    limit = ex.whole_number(node.concurrency, scope, "parallel concurrency", ex.run.max_concurrency, minimum=1)
    semaphore = FifoSemaphore(limit or 1)
    frames = [frame.child({"$branch": i}) for i in range(len(node.branches))]

    async def branch(i: int) -> Any:
        async with semaphore:
            return await ex.run_body(node.branches[i].body, frames[i], input)

    wanted = wanted_branches(node.wait, len(node.branches))
    try:
        if wanted == len(node.branches) and node.wait == "all":
            branches = await _all(branch, len(node.branches))
        else:
            branches = await _first(ex, node, frame, branch, wanted)
    finally:
        for branch_frame in frames:  # what the branches produced is visible after the parallel
            frame.outputs.update(branch_frame.outputs)
            frame.results.update(branch_frame.results)
    return merge(ex, node, branches, scope)


async def _all(branch: Any, count: int) -> list[Any]:
    results = await asyncio.gather(*(branch(i) for i in range(count)), return_exceptions=True)
    for result in results:
        if isinstance(result, BreakSignal | asyncio.CancelledError):
            raise result
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return list(results)


async def _first(ex: Executor, node: ParallelNode, frame: Frame, branch: Any, wanted: int) -> list[Any]:
    tasks = [asyncio.ensure_future(branch(i)) for i in range(len(node.branches))]
    outputs: list[Any] = []
    failed: list[BaseException] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                outputs.append(await next_done)
            except NodeFailed as error:
                failed.append(error)
                if len(node.branches) - len(failed) < wanted:
                    raise
            if len(outputs) >= wanted:
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        _skip_cancelled(ex, node, frame)
    return outputs


def _skip_cancelled(ex: Executor, node: ParallelNode, frame: Frame) -> None:
    """Nodes of cancelled branches that never finished are recorded as skipped."""
    for body_node in walk([b for branch in node.branches for b in branch.body]):
        key = frame.key(body_node.id)
        result = ex.run.state.node_results.get(key)
        if result is None or (result.error is not None and result.error.name == "Cancelled"):
            ex.run.state.node_results[key] = NodeResult(status="skipped", started_at=now_iso(), completed_at=now_iso(),
                                                        meta={"cancelled": True}).started(next(ex.run.starts))
            if key in ex.run.cut_off:
                ex.run.cut_off.remove(key)


def merge(ex: Executor, node: ParallelNode, branches: list[Any], scope: Any) -> Any:
    match node.merge:
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
            return ex.evaluate(expression, scope.with_names({"$branches": branches}))

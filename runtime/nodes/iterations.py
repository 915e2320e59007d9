"""What loop, while and foreach share: iteration frames and the summary of their results.

Every iteration runs in a frame of its own (result keys `loop[3].node`), so iterations never
see each other's writes and no result is overwritten. When the loop ends, the results of
the last iteration in which each body node ran become that node's plain result and output
(`node.output` after the loop), in index order, so concurrent runs give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flowscript.compiler.ast import AnyNode
from flowscript.runtime.executor import Executor
from flowscript.runtime.scope import Frame


def iteration_frame(frame: Frame, node: AnyNode, index: int, bindings: dict[str, Any]) -> Frame:
    return frame.child(bindings, prefix=f"{frame.prefix}{node.id}[{index}].")


def summarize(ex: Executor, frame: Frame, iterations: Iterable[Frame | None]) -> None:
    latest: dict[str, Any] = {}
    for iteration in iterations:
        if iteration is not None:
            latest.update(iteration.results)
    for node_id, result in latest.items():
        ex.record(frame, node_id, frame.key(node_id), result)

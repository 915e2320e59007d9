"""if and branch (FLOWSCRIPT.md 5.5): run one body in order; the others are skipped."""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import BranchNode, IfNode
from flowscript.expressions import truthy
from flowscript.runtime.executor import Executor
from flowscript.runtime.scope import Frame


async def run_if(ex: Executor, node: IfNode, frame: Frame, input: Any) -> Any:
    """Output: the chosen body's last output; with no body to run, the input passes through."""
    if truthy(ex.evaluate(node.condition, ex.scope(frame, input))):
        chosen, others = node.then, [node.else_ or []]
    else:
        chosen, others = node.else_, [node.then]
    for body in others:
        ex.mark_skipped(body, frame)
    return input if chosen is None else await ex.run_body(chosen, frame, input)


async def run_branch(ex: Executor, node: BranchNode, frame: Frame, input: Any) -> Any:
    """The first case whose `when` is truthy runs, else the default body."""
    scope = ex.scope(frame, input)
    bodies = [case.body for case in node.cases] + [node.default or []]
    chosen_index = next((i for i, case in enumerate(node.cases) if truthy(ex.evaluate(case.when, scope))), None)
    chosen = node.default if chosen_index is None else node.cases[chosen_index].body
    for i, body in enumerate(bodies):
        if i != (len(node.cases) if chosen_index is None else chosen_index):
            ex.mark_skipped(body, frame)
    return input if chosen is None else await ex.run_body(chosen, frame, input)

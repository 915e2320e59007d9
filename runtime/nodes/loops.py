"""loop and while (FLOWSCRIPT.md 5.5).

The first body node of iteration 0 receives the loop's input; of later iterations, the
previous iteration's output. A `<break/>` ends the loop; the output is then the last body
output completed before it.
"""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import LoopNode, WhileNode
from flowscript.expressions import truthy
from flowscript.runtime.executor import Executor, WithMeta
from flowscript.runtime.nodes.iterations import iteration_frame, summarize
from flowscript.runtime.scope import Frame, Scope
from flowscript.runtime.signals import BreakSignal

DEFAULT_MAX_ITERATIONS = 1000


async def run_loop(ex: Executor, node: LoopNode, frame: Frame, input: Any) -> Any:
    """Up to `max` iterations; `break` is evaluated after each with this iteration's outputs."""
    limit = ex.whole_number(node.max, ex.scope(frame, input), "loop max", DEFAULT_MAX_ITERATIONS)
    output, frames = input, []
    try:
        for i in range(limit or 0):
            iteration = iteration_frame(frame, node, i, {"$iteration": i})
            frames.append(iteration)
            try:
                output = await ex.run_body(node.body, iteration, output)
            except BreakSignal as signal:
                if signal.loop_id not in (None, node.id):
                    raise
                output = signal.last_output
                break
            if node.break_ is not None and truthy(ex.evaluate(node.break_, Scope(ex.run.scope, iteration, input))):
                break
    finally:
        summarize(ex, frame, frames)
    return WithMeta(output, {"iterations": len(frames)})


async def run_while(ex: Executor, node: WhileNode, frame: Frame, input: Any) -> Any:
    """`condition` is evaluated before each iteration, with the previous iteration's outputs in scope."""
    limit = ex.whole_number(node.max, ex.scope(frame, input), "while max", DEFAULT_MAX_ITERATIONS) or 0
    output, frames = input, []
    previous = frame.child()  # before the first iteration no body output exists yet
    bound_hit = True
    try:
        for i in range(limit):
            condition_frame = previous.child({"$iteration": i})
            if not truthy(ex.evaluate(node.condition, Scope(ex.run.scope, condition_frame, input))):
                bound_hit = False
                break
            iteration = iteration_frame(frame, node, i, {"$iteration": i})
            frames.append(iteration)
            try:
                output = await ex.run_body(node.body, iteration, output)
            except BreakSignal as signal:
                if signal.loop_id not in (None, node.id):
                    raise
                output, bound_hit = signal.last_output, False
                break
            previous = iteration
    finally:
        summarize(ex, frame, frames)
    return WithMeta(output, {"iterations": len(frames), "boundHit": bound_hit and limit > 0})

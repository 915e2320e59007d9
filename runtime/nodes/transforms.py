"""map, filter and template transforms (FLOWSCRIPT.md 5.6): pure, expression-driven."""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import TransformNode
from flowscript.expressions import truthy
from flowscript.runtime.executor import Executor
from flowscript.runtime.scope import Frame


async def run_map(ex: Executor, node: TransformNode, frame: Frame, input: Any) -> Any:
    """A list input gives a list (one result per item); a single value gives one value."""
    expression = ex.expression(node.config["expression"])
    scope = ex.scope(frame, input)
    if not isinstance(input, list):
        return expression.evaluate(scope.with_names(_item_names(input, 0, [input])))
    return [expression.evaluate(scope.with_names(_item_names(item, i, input))) for i, item in enumerate(input)]


async def run_filter(ex: Executor, node: TransformNode, frame: Frame, input: Any) -> Any:
    """Keeps the original items whose condition is truthy; a single value is kept or dropped (null)."""
    condition = ex.expression(node.config["condition"])
    scope = ex.scope(frame, input)
    if not isinstance(input, list):
        return input if truthy(condition.evaluate(scope.with_names(_item_names(input, 0, [input])))) else None
    return [item for i, item in enumerate(input)
            if truthy(condition.evaluate(scope.with_names(_item_names(item, i, input))))]


async def run_template(ex: Executor, node: TransformNode, frame: Frame, input: Any) -> str:
    return ex.render(node.config["template"], ex.scope(frame, input))


def _item_names(item: Any, index: int, items: list[Any]) -> dict[str, Any]:
    return {"$item": item, "$index": index, "$first": index == 0, "$last": index == len(items) - 1,
            "$items": items}

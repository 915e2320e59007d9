"""`<transform type="filter">`: keeps the items whose `condition` is truthy, unchanged
(docs/language.md#filter). A single value is kept, or dropped to null."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.expressions import truthy
from flowscript.nodes.base import DataCall
from flowscript.nodes.data import ITEM_NAMES, TransformNode, item_names


@dataclass(kw_only=True, slots=True)
class FilterTransform(TransformNode):
    """`<transform type="filter">`: the items for which the condition holds."""

    type = "filter"
    derived_output = True
    passes_input = True
    required_config = ("condition",)
    expressions: ClassVar[Mapping[str, frozenset[str]]] = {"condition": ITEM_NAMES}
    self_evaluated = frozenset({"condition"})

    async def run(self, call: DataCall) -> Any:
        condition = call.evaluator(self.config["condition"])
        input = call.input
        if not isinstance(input, list):
            return input if truthy(condition(item_names(input, 0, [input]))) else None
        return [item for i, item in enumerate(input) if truthy(condition(item_names(item, i, input)))]

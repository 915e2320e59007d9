"""`<transform type="map">`: `expression` per item, with `$item $index $first $last $items`
(docs/language.md#map). A list input gives a list; a single value gives one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.nodes.base import DataCall
from flowscript.nodes.data import ITEM_NAMES, TransformNode, item_names


@dataclass(kw_only=True, slots=True)
class MapTransform(TransformNode):
    """`<transform type="map">`: each item through the expression."""

    type = "map"
    derived_output = True
    required_config = ("expression",)
    expressions: ClassVar[Mapping[str, frozenset[str]]] = {"expression": ITEM_NAMES}
    self_evaluated = frozenset({"expression"})

    async def run(self, call: DataCall) -> Any:
        evaluate = call.evaluator(self.config["expression"])
        input = call.input
        if not isinstance(input, list):
            return evaluate(item_names(input, 0, [input]))
        return [evaluate(item_names(item, i, input)) for i, item in enumerate(input)]

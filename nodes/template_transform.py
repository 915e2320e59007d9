"""`<transform type="template">` (the default transform): its `template` rendered, always a
string (docs/language.md#template)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowscript.nodes.base import DataCall
from flowscript.nodes.data import TransformNode


@dataclass(kw_only=True, slots=True)
class TemplateTransform(TransformNode):
    """`<transform type="template">` (the default transform): text from a template."""

    type = "template"
    derived_output = True
    required_config = ("template",)
    self_evaluated = frozenset({"template"})

    async def run(self, call: DataCall) -> Any:
        return call.render(self.config["template"])

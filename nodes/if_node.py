"""`<if condition="...">` with `<then>` and an optional `<else>` (docs/language.md#if).

Output: the chosen body's last output; when no body runs, the input passes through. The
nodes of the body not chosen are recorded as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.expressions import truthy
from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, NodeReader, Site, site
from flowscript.syntax.xml_reader import Element, Text


@dataclass(kw_only=True, slots=True)
class IfNode(ControlNode):
    """`<if>`: runs `<then>` or `<else>` by its condition."""

    kind = "if"
    condition: str
    then: list[BodyItem] = field(default_factory=list)
    else_: list[BodyItem] | None = None

    def bodies(self) -> list[Body]:
        return [Body(self.then)] + ([Body(self.else_)] if self.else_ is not None else [])

    def sites(self) -> Iterator[Site]:
        yield from site(self, "condition", self.condition, "expression")

    async def run(self, step: ControlStep) -> Any:
        chosen: list[BodyItem] | None
        if truthy(step.evaluate(self.condition)):
            chosen, other = self.then, self.else_ or []
        else:
            chosen, other = self.else_, self.then
        step.skip(other)
        return step.input if chosen is None else await step.run_body(chosen, step.input)

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> IfNode:
        values, rest = reader.fields(el, ("condition",), ("condition",))
        base = reader.base(el, values)
        bodies: dict[str, list[BodyItem]] = {}
        for child in rest:
            if isinstance(child, Text):
                reader.no_text(child)
            elif child.tag in ("then", "else"):
                if child.tag in bodies:
                    reader.report("VALID_INVALID_FIELD_TYPE", f"<{child.tag}> is given twice in <if>", child.offset)
                bodies[child.tag] = reader.container(child, loops)
            elif child.tag in reader.node_tags:
                reader.misplaced(child, "if", "put the nodes to run in <then>...</then> (and <else>...</else>)")
            else:
                reader.unknown_child(child, "if", ("then", "else", "condition"))
        return cls(**base, condition=reader.required(el, values, "condition"), then=bodies.get("then", []),
                   else_=bodies.get("else"))

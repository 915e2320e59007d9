"""`<while condition="..." max="N">`: `condition` is evaluated before each iteration, with the
previous iteration's outputs in scope; at most `max` iterations (default 1000), and the
result notes when that bound stopped the loop (docs/language.md#while). Inputs and
`<break/>` as for loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.expressions import truthy
from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, Lane, NodeReader, Site, WithMeta, site
from flowscript.nodes.loop import DEFAULT_MAX_ITERATIONS, ITERATION
from flowscript.signals import BreakSignal
from flowscript.syntax.xml_reader import Element


@dataclass(kw_only=True, slots=True)
class WhileNode(ControlNode):
    """Reads like LoopNode (nodes/loop.py) on purpose: two kinds, each whole in its module."""

    kind = "while"
    body_receives_output = True
    condition: str
    max: str | None = None  # None: 1000
    body: list[BodyItem] = field(default_factory=list)

    def bodies(self) -> list[Body]:
        return [Body(self.body, ITERATION)]

    def sites(self) -> Iterator[Site]:
        yield from site(self, "max", self.max, "template")
        yield from site(self, "condition", self.condition, "expression", ITERATION)

    async def run(self, step: ControlStep) -> Any:
        limit = step.whole_number(self.max, "while max", DEFAULT_MAX_ITERATIONS) or 0
        output, lanes = step.input, []
        previous: Lane = step.lane({})  # before the first iteration no body output exists yet
        bound_hit = True
        try:
            for i in range(limit):
                if not truthy(previous.lane({"$iteration": i}).evaluate(self.condition)):
                    bound_hit = False
                    break
                lane = step.lane({"$iteration": i}, iteration=i)
                lanes.append(lane)
                try:
                    output = await lane.run_body(self.body, output)
                except BreakSignal as signal:
                    if signal.loop_id not in (None, self.id):
                        raise
                    output, bound_hit = signal.last_output, False
                    break
                previous = lane
        finally:
            step.summarize([lane.results() for lane in lanes])
        return WithMeta(output, {"iterations": len(lanes), "boundHit": bound_hit and limit > 0})

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> WhileNode:
        values, rest = reader.fields(el, ("condition", "max"), ("condition", "max"))
        base = reader.base(el, values)
        return cls(**base, condition=reader.required(el, values, "condition"), max=reader.number(el, values, "max", 0),
                   body=reader.body(rest, (*loops, base["id"])))

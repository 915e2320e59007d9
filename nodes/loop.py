"""`<loop max="N" break="...">`: the body up to `max` times (default 1000); `break` is
evaluated after each iteration with that iteration's outputs in scope (docs/language.md#loop).

The first body node of iteration 0 receives the loop's input; of later iterations, the
previous iteration's output. A `<break/>` ends the loop; the output is then the last body
output completed before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.expressions import truthy
from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, NodeReader, Report, Site, WithMeta, site
from flowscript.signals import BreakSignal
from flowscript.syntax.xml_reader import Element

DEFAULT_MAX_ITERATIONS = 1000
ITERATION = frozenset({"$iteration"})


@dataclass(kw_only=True, slots=True)
class LoopNode(ControlNode):
    """`<loop>`: its body up to `max` times, until its `break` condition holds."""

    kind = "loop"
    body_receives_output = True
    max: str | None = None  # a whole number, or a template giving one; None: 1000
    break_: str | None = None
    body: list[BodyItem] = field(default_factory=list)

    def bodies(self) -> list[Body]:
        return [Body(self.body, ITERATION)]

    def sites(self) -> Iterator[Site]:
        yield from site(self, "max", self.max, "template")
        yield from site(self, "break", self.break_, "expression", ITERATION)

    def check(self, report: Report) -> None:
        if self.max is None and self.break_ is None:
            report("VALID_MISSING_REQUIRED_FIELD", f"loop '{self.id}' has neither max nor break", self.location,
                   hint="it stops after 1000 iterations; add max=\"N\" or break=\"...\"", warning=True)

    async def run(self, step: ControlStep) -> Any:
        limit = step.whole_number(self.max, "loop max", DEFAULT_MAX_ITERATIONS) or 0
        output, lanes = step.input, []
        try:
            for i in range(limit):
                lane = step.lane({"$iteration": i}, iteration=i)
                lanes.append(lane)
                try:
                    output = await lane.run_body(self.body, output)
                except BreakSignal as signal:
                    if signal.loop_id not in (None, self.id):
                        raise
                    output = signal.last_output
                    break
                if self.break_ is not None and truthy(lane.evaluate(self.break_)):
                    break
        finally:
            step.summarize([lane.results() for lane in lanes])
        return WithMeta(output, {"iterations": len(lanes)})

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> LoopNode:
        values, rest = reader.fields(el, ("max", "break"), ("max",))
        base = reader.base(el, values)
        if "break" in values and not values["break"][0]:
            reader.report("VALID_MISSING_REQUIRED_FIELD", "break of <loop> is empty", values["break"][1])
        return cls(**base, max=reader.number(el, values, "max", 0), break_=values.get("break", (None,))[0],
                   body=reader.body(rest, (*loops, base["id"])))

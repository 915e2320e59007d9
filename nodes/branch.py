"""`<branch>` with `<case when="...">` bodies and an optional `<default>`
(docs/language.md#branch): the first truthy case runs, else the default. Output as for if."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flowscript.expressions import truthy
from flowscript.nodes.base import Body, BodyItem, ControlNode, ControlStep, NodeReader, Site
from flowscript.syntax.source import Location
from flowscript.syntax.xml_reader import Element, Text


@dataclass(kw_only=True, slots=True)
class BranchCase:
    """One `<case when=...>` of a branch and the nodes it runs."""

    when: str
    body: list[BodyItem] = field(default_factory=list)
    location: Location
    when_location: Location | None = None


@dataclass(kw_only=True, slots=True)
class BranchNode(ControlNode):
    """`<branch>`: runs the first case whose condition holds (or the default)."""

    kind = "branch"
    cases: list[BranchCase]
    default: list[BodyItem] | None = None

    def bodies(self) -> list[Body]:
        return [Body(c.body) for c in self.cases] + ([Body(self.default)] if self.default is not None else [])

    def sites(self) -> Iterator[Site]:
        for case in self.cases:
            yield Site("when", case.when, "expression", case.when_location)

    async def run(self, step: ControlStep) -> Any:
        chosen = next((i for i, case in enumerate(self.cases) if truthy(step.evaluate(case.when))), None)
        bodies = [case.body for case in self.cases] + [self.default or []]
        for i, other in enumerate(bodies):
            if i != (len(self.cases) if chosen is None else chosen):
                step.skip(other)
        selected = self.default if chosen is None else self.cases[chosen].body
        return step.input if selected is None else await step.run_body(selected, step.input)

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> BranchNode:
        values, rest = reader.fields(el, (), ())
        base = reader.base(el, values)
        cases: list[BranchCase] = []
        default: list[BodyItem] | None = None
        for child in rest:
            if isinstance(child, Text):
                reader.no_text(child)
            elif child.tag == "case":
                when = child.attributes.get("when")
                text, offset = when.value.trimmed() if when is not None else ("false", child.offset)
                if when is None:
                    reader.report("VALID_MISSING_REQUIRED_FIELD", "<case> needs when", child.offset,
                                  hint='write <case when="expression">')
                elif not text:
                    reader.report("VALID_MISSING_REQUIRED_FIELD", "when of <case> is empty", offset)
                body = reader.container(child, loops, ("when",))
                cases.append(BranchCase(when=text, body=body, location=reader.loc(child.offset),
                                        when_location=reader.loc(offset)))
            elif child.tag == "default":
                if default is not None:
                    reader.report("VALID_INVALID_FIELD_TYPE", "<default> is given twice in <branch>", child.offset)
                default = reader.container(child, loops)
            elif child.tag in reader.node_tags:
                reader.misplaced(child, "branch", 'put the nodes in <case when="...">...</case> or <default>')
            else:
                reader.unknown_child(child, "branch", ("case", "default"))
        if not cases:
            reader.report("VALID_MISSING_REQUIRED_FIELD", "<branch> needs at least one <case when=\"...\">",
                          el.offset)
        return cls(**base, cases=cases, default=default)

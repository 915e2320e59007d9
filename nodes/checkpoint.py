"""`<checkpoint prompt="..." timeout="ms" default="approve|reject" suspend="true|false">`: asks
for approval through the backend (a terminal prompt, a Prefect approval form); no answer
within `timeout` takes the default action (docs/language.md#checkpoint). A reject ends the
run cancelled. In a deployed run, `suspend` says how the flow run waits: suspended (its
process exits and the worker is free; the answer reruns the flow, which reuses what
succeeded) or paused (its process waits); without it, a wait over ten minutes suspends
(docs/deploying.md#long-approvals-free-the-worker).

Output: `{action, input, timedOut, respondedAt}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from flowscript.nodes.base import ApprovalRequest, ControlNode, ControlStep, NodeReader, Site, WithMeta, site
from flowscript.signals import CheckpointRejected
from flowscript.syntax.xml_reader import Element, Text


@dataclass(kw_only=True, slots=True)
class CheckpointNode(ControlNode):
    """`<checkpoint>`: waits for an approval (or its timeout's default); a rejection cancels the run."""

    kind = "checkpoint"
    runs_anywhere = False  # it asks a person: it runs where the run is watched
    asks_approval = True
    prompt: str | None = None
    timeout: str | None = None  # milliseconds, or a template giving them
    default: Literal["approve", "reject"] = "reject"
    suspend: bool | None = None  # None: by the timeout (over ten minutes suspends a deployed run)

    def sites(self) -> Iterator[Site]:
        yield from site(self, "prompt", self.prompt, "template")
        yield from site(self, "timeout", self.timeout, "template")

    async def run(self, step: ControlStep) -> Any:
        prompt = step.render(self.prompt) if self.prompt else f"Continue past checkpoint '{self.id}'?"
        timeout_ms = step.whole_number(self.timeout, "checkpoint timeout", None)
        request = ApprovalRequest(self.id, step.key, prompt, None if timeout_ms is None else timeout_ms / 1000,
                                  self.default, step.input, self.suspend)
        decision = await step.ask(request)
        output = {"action": decision.action, "input": step.input, "timedOut": decision.timed_out,
                  "respondedAt": decision.responded_at}
        if decision.action == "reject":
            raise CheckpointRejected(self.id, decision.by, output, decision.comment)
        return WithMeta(output, {"by": decision.by, "comment": decision.comment})

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> CheckpointNode:
        names = ("prompt", "timeout", "default", "suspend")
        values, rest = reader.fields(el, names, names)
        base = reader.base(el, values)
        for child in rest:
            if isinstance(child, Text):
                reader.no_text(child)
            else:
                reader.unknown_child(child, "checkpoint", names)
        default = reader.choice(el, values, "default", ("approve", "reject")) or "reject"
        suspend = reader.choice(el, values, "suspend", ("true", "false"))
        return cls(**base, prompt=values.get("prompt", (None,))[0], timeout=reader.number(el, values, "timeout", 0),
                   default=default, suspend=None if suspend is None else suspend == "true")  # type: ignore[arg-type]

"""checkpoint (FLOWSCRIPT.md 5.5): ask for approval through the backend; reject cancels the run."""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import CheckpointNode
from flowscript.runtime.backend import ApprovalRequest
from flowscript.runtime.executor import Executor, WithMeta
from flowscript.runtime.scope import Frame
from flowscript.runtime.signals import CheckpointRejected


async def run_checkpoint(ex: Executor, node: CheckpointNode, frame: Frame, input: Any) -> Any:
    scope = ex.scope(frame, input)
    prompt = ex.render(node.prompt, scope) if node.prompt else f"Continue past checkpoint '{node.id}'?"
    timeout_ms = ex.whole_number(node.timeout, scope, "checkpoint timeout", None)
    request = ApprovalRequest(node.id, frame.key(node.id), prompt, None if timeout_ms is None else timeout_ms / 1000,
                              node.default, input)
    ex.run.events.approval_wait(request.key, waiting=True)
    try:
        decision = await ex.run.backend.request_approval(request)
    finally:
        ex.run.events.approval_wait(request.key, waiting=False)
    output = {"action": decision.action, "input": input, "timedOut": decision.timed_out,
              "respondedAt": decision.responded_at}
    if decision.action == "reject":
        raise CheckpointRejected(node.id, decision.by, output, decision.comment)
    return WithMeta(output, {"by": decision.by, "comment": decision.comment})

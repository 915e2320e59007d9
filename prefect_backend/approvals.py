"""Checkpoints of a deployed run: the flow run pauses and the Prefect UI shows an approval
form (approve or reject, and a comment). No answer before the checkpoint's timeout gives
its default action with timedOut: true; the decision is logged on the flow run."""

from __future__ import annotations

import math
from typing import Literal

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from prefect.logging import get_run_logger
from prefect.states import Running

from flowscript.runtime.approval import DEFAULT_TIMEOUT_S
from flowscript.runtime.backend import ApprovalDecision, ApprovalRequest
from flowscript.runtime.state import now_iso

POLL_INTERVAL_S = 2
APPROVER = "Prefect UI"


class Approval(RunInput):
    """The form the Prefect UI shows for a paused checkpoint."""

    action: Literal["approve", "reject"]
    comment: str | None = None


async def ask_in_prefect(request: ApprovalRequest) -> ApprovalDecision:
    timeout = max(1, math.ceil(request.timeout_s if request.timeout_s is not None else DEFAULT_TIMEOUT_S))
    form = Approval.with_initial_data(description=f"**Checkpoint `{request.checkpoint_id}`**\n\n{request.prompt}",
                                      action=request.default)
    logger = get_run_logger()
    try:
        answer = await apause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=POLL_INTERVAL_S,
                                       key=f"checkpoint-{request.key}")
    except FlowPauseTimeout:
        await _resume_after_timeout()
        logger.info(f"checkpoint {request.checkpoint_id}: no answer in {timeout}s, {request.default} (default)")
        return ApprovalDecision(request.default, True, now_iso(), "default (timeout)")
    decision = ApprovalDecision(answer.action, False, now_iso(), APPROVER, answer.comment or None)
    comment = f": {decision.comment}" if decision.comment else ""
    logger.info(f"checkpoint {request.checkpoint_id}: {decision.action} by {APPROVER}{comment}")
    return decision


async def _resume_after_timeout() -> None:
    """The flow run is still Paused on the server; the run goes on with the default action."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    async with get_client() as client:
        await client.set_flow_run_state(context.flow_run.id, Running(), force=True)

"""Checkpoints of a deployed run: the Prefect UI shows an approval form (approve or reject,
and a comment) while the flow run waits, paused or suspended (docs/deploying.md).

- **Paused**: the flow run's process waits (polling) for the answer. No answer before the
  checkpoint's timeout gives its default action with timedOut: true.
- **Suspended** (`suspend="true"`, or a deployed run's wait over `SUSPEND_OVER_S` when the
  checkpoint says nothing): the process exits, freeing the worker; the run waits as
  *Suspended* with the same form. An answer reruns the flow from the start (in a new
  process, on any worker of the pool); the rerun reuses what already succeeded (the state
  file, persisted results) and, reaching the checkpoint again, finds the answer. Prefect's
  own suspend timeout would fail the run, so the timeout is an automation made for that flow
  run at suspend time: a proactive trigger that resumes it without an answer when no
  resume, cancellation or end is seen within the timeout; a rerun that finds no answer takes
  the default action with timedOut: true. The rerun deletes the automation.

The decision is logged on the flow run either way.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Literal
from uuid import UUID

import httpx
from prefect._flow_run_suspension import mark_flow_run_suspension_requested
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import State, StateType
from prefect.context import FlowRunContext, TaskRunContext
from prefect.events.actions import ResumeFlowRun
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.exceptions import FlowPauseTimeout, Pause
from prefect.flow_runs import apause_flow_run, asuspend_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_base_key
from prefect.logging import get_run_logger
from prefect.states import Running

from flowscript.runtime.approval import DEFAULT_TIMEOUT_S, NO_ANSWER
from flowscript.runtime.backend import ApprovalDecision, ApprovalRequest
from flowscript.runtime.state import now_iso

POLL_INTERVAL_S = 2
APPROVER = "Prefect UI"
SUSPEND_OVER_S = 600  # a deployed run's checkpoint that says nothing suspends when it may wait longer
MIN_PROACTIVE_S = 10  # Prefect's smallest window for a proactive trigger
# The events that end a suspended run's wait: resumed (Resuming), cancelled, or over another way.
ENDS_OF_WAIT = frozenset(f"prefect.flow-run.{name}" for name in (
    "Resuming", "Scheduled", "Pending", "Running", "Cancelling", "Cancelled", "Completed", "Failed", "Crashed"))


class Approval(RunInput):
    """The form the Prefect UI shows for a paused or suspended checkpoint."""

    action: Literal["approve", "reject"]
    comment: str | None = None


async def ask_in_prefect(request: ApprovalRequest) -> ApprovalDecision:
    timeout = max(1, math.ceil(request.timeout_s if request.timeout_s is not None else DEFAULT_TIMEOUT_S))
    form = Approval.with_initial_data(description=f"**Checkpoint `{request.checkpoint_id}`**\n\n{request.prompt}",
                                      action=request.default)
    context = FlowRunContext.get()
    flow_run = context.flow_run if context is not None else None
    if flow_run is not None and suspends(request, timeout, deployed=flow_run.deployment_id is not None):
        return await _suspended(request, form, timeout, flow_run.id)
    if request.suspend and flow_run is not None:
        get_run_logger().warning(f"checkpoint {request.checkpoint_id}: only a deployment's flow run can be "
                                 "suspended; this one pauses")
    return await _paused(request, form, timeout)


def suspends(request: ApprovalRequest, timeout_s: float, *, deployed: bool) -> bool:
    """Suspend (the process exits) rather than pause (it waits)? Only a deployment's flow run can:
    `suspend="true"` always, `suspend="false"` never, unsaid when the wait may last over ten minutes."""
    if not deployed:
        return False
    return request.suspend if request.suspend is not None else timeout_s > SUSPEND_OVER_S


async def _paused(request: ApprovalRequest, form: type[Approval], timeout: int) -> ApprovalDecision:
    try:
        answer = await apause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=POLL_INTERVAL_S,
                                       key=f"checkpoint-{request.key}")
    except FlowPauseTimeout:
        await _resume_after_timeout()
        return _no_answer(request, f"no answer in {timeout}s")
    return _answered(request, answer)


async def _suspended(request: ApprovalRequest, form: type[Approval], timeout: int,
                     flow_run_id: UUID) -> ApprovalDecision:
    """First time here: suspend the flow run (with the automation that applies the default at
    the timeout) and end this process. On the rerun that the answer (or the timeout) started:
    the answer, if any."""
    key = f"checkpoint-{request.key}"
    name = timeout_automation_name(flow_run_id, key)
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        if key not in (flow_run.empirical_policy.pause_keys or set()):
            await _delete_automations(client, name)
            await client.create_automation(_default_at_timeout(name, flow_run_id, timeout, request))
            # asuspend_flow_run refuses a call from inside a task run for the current flow run;
            # naming the flow run, it suspends it and returns, and this process ends it here
            await asuspend_flow_run(wait_for_input=form, flow_run_id=flow_run_id, key=key)
            state = (await client.read_flow_run(flow_run_id)).state
            if state is not None and state.is_paused():
                get_run_logger().info(f"checkpoint {request.checkpoint_id}: the flow run is suspended until "
                                      f"answered (or {timeout}s, then {request.default})")
                await _task_run_suspended(client)
                mark_flow_run_suspension_requested(flow_run_id, state)  # the flow's other task runs stop too
                raise Pause(state=state)
        answer = await _answer(client, flow_run_id, key)
        await _delete_automations(client, name)
    if answer is None:
        return _no_answer(request, f"resumed without an answer (no answer in {timeout}s)")
    return _answered(request, form.model_validate_json(answer))


async def _answer(client: PrefectClient, flow_run_id: UUID, key: str) -> str | None:
    """The form's answer (JSON) stored by the resume, or None when the run was resumed without one."""
    try:
        return await client.read_flow_run_input(flow_run_id, keyset_from_base_key(f"suspended-{key}")["response"])
    except httpx.HTTPStatusError as error:
        if error.response.status_code == 404:
            return None
        raise


async def _task_run_suspended(client: PrefectClient) -> None:
    """The checkpoint's task run ends here as Suspended (the rerun asks again in a task run of its
    own), rather than staying Running in the UI for ever."""
    context = TaskRunContext.get()
    if context is not None:
        await client.set_task_run_state(context.task_run.id, State(type=StateType.PAUSED, name="Suspended",
                                                                   message="the flow run is suspended"), force=True)


def timeout_automation_name(flow_run_id: UUID, key: str) -> str:
    return f"flowscript-timeout-{flow_run_id}-{key}"


def _default_at_timeout(name: str, flow_run_id: UUID, timeout: int, request: ApprovalRequest) -> AutomationCore:
    """Resumes the suspended flow run without an answer when nothing ends its wait within the
    timeout (measured from its Suspended event): the rerun then takes the default."""
    resource = f"prefect.flow-run.{flow_run_id}"
    return AutomationCore(
        name=name,
        description=f"FlowScript checkpoint {request.checkpoint_id}: {request.default} (default) after {timeout}s "
                    "without an answer",
        trigger=EventTrigger(posture=Posture.Proactive, after={"prefect.flow-run.Suspended"},
                             expect=set(ENDS_OF_WAIT), match={"prefect.resource.id": resource},
                             for_each={"prefect.resource.id"}, threshold=1,
                             within=timedelta(seconds=max(MIN_PROACTIVE_S, timeout))),
        actions=[ResumeFlowRun()],
    )


async def _delete_automations(client: PrefectClient, name: str) -> None:
    for automation in await client.read_automations_by_name(name):
        await client.delete_automation(automation.id)


def _answered(request: ApprovalRequest, answer: Approval) -> ApprovalDecision:
    decision = ApprovalDecision(answer.action, False, now_iso(), APPROVER, answer.comment or None)
    comment = f": {decision.comment}" if decision.comment else ""
    get_run_logger().info(f"checkpoint {request.checkpoint_id}: {decision.action} by {APPROVER}{comment}")
    return decision


def _no_answer(request: ApprovalRequest, why: str) -> ApprovalDecision:
    get_run_logger().info(f"checkpoint {request.checkpoint_id}: {why}, {request.default} (default)")
    return ApprovalDecision(request.default, True, now_iso(), NO_ANSWER)


async def _resume_after_timeout() -> None:
    """The flow run is still Paused on the server; the run goes on with the default action."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    async with get_client() as client:
        await client.set_flow_run_state(context.flow_run.id, Running(), force=True)

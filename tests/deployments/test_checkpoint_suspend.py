"""How a deployed run's checkpoint waits: `suspend="true|false"`, else by its timeout
(docs/language.md#checkpoint, docs/deploying.md#long-approvals-free-the-worker)."""

from __future__ import annotations

import pytest

from flowscript.compiler.diagnostics import InvalidWorkflow
from flowscript.compiler.loader import load_workflow
from flowscript.nodes.base import ApprovalRequest
from flowscript.prefect_backend.approvals import SUSPEND_OVER_S, suspends


@pytest.mark.parametrize(("attribute", "expected"), [("", None), (' suspend="true"', True), (' suspend="false"', False)])
def test_the_attribute_reads_as_a_choice(write_flow, attribute, expected):
    path = write_flow(f'<checkpoint id="ok" prompt="go?"{attribute}/>')
    assert load_workflow(path).workflow.nodes[0].suspend is expected


def test_anything_else_is_refused(write_flow):
    with pytest.raises(InvalidWorkflow, match="suspend"):
        load_workflow(write_flow('<checkpoint id="ok" suspend="later"/>'))


def _request(suspend: bool | None) -> ApprovalRequest:
    return ApprovalRequest("ok", "ok", "go?", None, "reject", None, suspend)


@pytest.mark.parametrize(("suspend", "timeout", "deployed", "expected"), [
    (None, SUSPEND_OVER_S + 1, True, True),  # a long wait in a deployed run frees the worker
    (None, SUSPEND_OVER_S, True, False),  # ten minutes or less: paused
    (True, 5, True, True),
    (False, 86_400, True, False),
    (True, 86_400, False, False),  # only a deployment's flow run can be suspended
    (None, 86_400, False, False),
])
def test_when_a_checkpoint_suspends(suspend, timeout, deployed, expected):
    assert suspends(_request(suspend), timeout, deployed=deployed) is expected

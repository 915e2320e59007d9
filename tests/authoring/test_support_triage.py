"""Tests of a workflow, as its author writes them (docs/testing.md): the flowscript pytest
plugin's fixtures run it offline, respx answers its HTTP API, the `ai` fixture its model."""

import json
from pathlib import Path

import httpx

from flowscript.testing import assert_output, assert_status

WORKFLOW = Path(__file__).with_name("support-triage.flow.md")
TICKETS = [{"id": 1, "title": "Checkout is down"}, {"id": 2, "title": "Typo on the about page"}]
SECRETS = {"TICKETS_TOKEN": "test-token"}


def test_an_approved_triage_is_saved(flowscript_run, ai, respx_mock):
    service = respx_mock.get("https://tickets.example.com/api/tickets").mock(side_effect=[
        httpx.Response(503),  # the service hiccups once: the source retries (no waiting in tests)
        httpx.Response(200, json={"items": TICKETS}),
    ])
    ai.reply({"urgent": [1], "summary": "1 urgent: checkout"}, node="triage")

    result = flowscript_run(WORKFLOW, secrets=SECRETS, approvals={"review": "approve"})

    assert result.status == "completed", result.error
    assert service.call_count == 2 and result.results["tickets"].attempts == 2
    assert service.calls.last.request.headers["authorization"] == "Bearer test-token"
    assert_output(result, "tickets", TICKETS)
    assert_output(result, "triage", {"urgent": [1], "summary": "1 urgent: checkout"})
    assert "Checkout is down" in ai.prompts("triage")[0]
    saved = json.loads((result.workdir / "out" / "triage.json").read_text())
    assert saved["action"] == "approve" and saved["input"]["urgent"] == [1]
    assert result.files == {"out/triage.json": (result.workdir / "out" / "triage.json").stat().st_size}


def test_a_rejected_triage_saves_nothing(flowscript_run, ai, respx_mock):
    respx_mock.get("https://tickets.example.com/api/tickets").respond(json={"items": TICKETS})
    ai.reply({"urgent": [], "summary": "nothing urgent"}, node="triage")

    result = flowscript_run(WORKFLOW, secrets=SECRETS, approvals={"review": ("reject", "not today")})

    assert result.status == "cancelled"
    assert_status(result, "review", "failed")
    assert "save" not in result.results and result.files == {}
    assert "rejected at checkpoint 'review' by caller: not today" in result.error

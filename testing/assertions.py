"""Assertions on a RunResult whose failure says which node, what was expected and what came."""

from __future__ import annotations

import json
from typing import Any

from flowscript.api import RunResult

__tracebackhide__ = True


def assert_output(result: RunResult, node: str, expected: Any) -> None:
    """The node's output equals `expected`."""
    __tracebackhide__ = True
    if node not in result.results:
        raise AssertionError(f"node {node!r} did not run in {result.state.workflow_id} (status {result.status}; "
                             f"nodes that ran: {', '.join(result.results) or 'none'})")
    outcome = result.results[node]
    if outcome.status != "success":
        raise AssertionError(f"node {node!r} {outcome.status}" + (f": {outcome.error}" if outcome.error else "")
                             + f"; expected output {_shown(expected)}")
    got = result.outputs.get(node, outcome.output)
    if got != expected:
        raise AssertionError(f"node {node!r} output differs\n  expected: {_shown(expected)}\n  got:      {_shown(got)}")


def assert_status(result: RunResult, node: str, status: str) -> None:
    """The node ended `success`, `failed` or `skipped`."""
    __tracebackhide__ = True
    outcome = result.results.get(node)
    got = outcome.status if outcome is not None else "did not run"
    if got != status:
        detail = f" ({outcome.error})" if outcome is not None and outcome.error else ""
        raise AssertionError(f"node {node!r}: expected status {status}, got {got}{detail}")


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 400 else text[:397] + "..."

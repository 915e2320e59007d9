"""flows/ holds the entry point deployments use: a workflow file -> its Prefect flow."""

from __future__ import annotations

import pytest

from flowscript.compiler.diagnostics import InvalidWorkflow
from flowscript.flows.workflow_flows import flow_for


def test_every_example_becomes_a_flow_named_after_its_workflow(tmp_path):
    from pathlib import Path

    examples = sorted((Path(__file__).resolve().parents[2] / "flows" / "examples").glob("*.flow.md"))
    assert len(examples) >= 12
    for path in examples:
        flow = flow_for(path)
        assert flow.name == path.name.removesuffix(".flow.md")
        assert "input" in flow.parameters.properties


def test_an_invalid_workflow_is_refused_with_its_diagnostics(write_flow):
    with pytest.raises(InvalidWorkflow) as info:
        flow_for(write_flow('<sink id="s" type="file" input="nope" path="x"/>'))
    assert "VALID_UNDEFINED_NODE_REF" in info.value.render()

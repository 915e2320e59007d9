"""docs/architecture.md, "Adding a node kind": the example kind, taken from the page as written,
registered with one line, reads, checks, plans and runs without any other change."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from local_runs import run_local

from flowscript.compiler.parser import parse_workflow_text
from flowscript.compiler.validator import check_workflow
from flowscript.nodes import registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


@pytest.fixture
def wait_kind(monkeypatch: pytest.MonkeyPatch) -> type:
    code = re.search(r"```python\n(# nodes/wait\.py\n.*?)```", DOC.read_text(), re.S)
    assert code is not None, "the example kind is no longer in docs/architecture.md"
    module = types.ModuleType("flowscript.nodes.wait")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code.group(1), "nodes/wait.py", "exec"), module.__dict__)
    monkeypatch.setattr(registry, "TABLE", registry.table_of((*registry.KINDS, registry.Kind("wait", None, "wait:WaitNode"))))
    return module.WaitNode


BODY = """---
name: waits
version: 1.0.0
config: {pause: {type: number, default: 0}}
---
<workflow>
  <transform id="hello" type="template"><template>hi</template></transform>
  <wait id="pause" input="hello" seconds="{{$config.pause}}"/>
  <transform id="after" type="template"><template>{{pause.output}}!</template></transform>
</workflow>
"""


async def test_the_documented_kind_reads_checks_plans_and_runs(wait_kind: type, tmp_path: Path) -> None:
    workflow = parse_workflow_text(BODY, path="waits.flow.md")
    pause = workflow.nodes[1]
    assert isinstance(pause, wait_kind) and pause.seconds == "{{$config.pause}}"
    diagnostics, plan = check_workflow(workflow)
    assert [d for d in diagnostics if d.severity == "error"] == []
    assert plan is not None and [w.node_ids for w in plan.waves] == [("hello",), ("pause",), ("after",)]
    path = tmp_path / "waits.flow.md"
    path.write_text(BODY)
    outcome = await run_local(path)
    assert outcome.status == "completed", outcome.failure
    assert outcome.state.node_results["after"].output == "hi!"


def test_the_documented_kind_reports_its_mistakes_at_their_place(wait_kind: type) -> None:
    bad = BODY.replace('seconds="{{$config.pause}}"', 'second="1"')
    with pytest.raises(Exception) as caught:
        parse_workflow_text(bad, path="waits.flow.md")
    text = caught.value.render()  # type: ignore[attr-defined]
    assert "waits.flow.md:8:34: VALID_INVALID_FIELD_TYPE <wait> has no attribute 'second'" in text
    assert "hint: did you mean 'seconds'?" in text
    assert "waits.flow.md:8:3: VALID_MISSING_REQUIRED_FIELD <wait> needs seconds" in text

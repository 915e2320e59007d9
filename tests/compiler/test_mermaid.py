"""`flowscript plan --format mermaid` and the `## Graph` section `--write-graph` keeps."""

from __future__ import annotations

from pathlib import Path

from cli_support import invoke

from flowscript.compiler.graph import mermaid, write_graph
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.parser import parse_workflow_file
from flowscript.runtime.markdown_log import with_log
from flowscript.syntax.log_section import workflow_fingerprint

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def test_nodes_by_kind_dependencies_bodies_and_fallbacks(write_flow):
    path = write_flow("""
<source id="orders" type="file" path="orders.json"/>
<source id="live" type="http" url="http://127.0.0.1:9/x">
  <on-error><retry max="1" base="0"/><fallback node="cache"/></on-error>
</source>
<source id="cache" type="file" path="cache.json"/>
<foreach id="each" collection="orders.output">
  <transform id="fmt" type="template"><template>{{item}}</template></transform>
  <sink id="keep" type="file" path="out/{{index}}.txt"/>
</foreach>
<if id="gate" condition="live.output"><then><transform id="yes" type="template"><template>y</template></transform></then></if>
<checkpoint id="ask" input="each"/>""")
    text = mermaid(load_workflow(path).plan)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n_orders[("orders<br/><small>source:file</small>")]' in lines  # a source: a cylinder
    assert '  subgraph n_each["each<br/><small>foreach</small>"]' in lines  # a control node: a subgraph
    assert '    n_keep[/"keep<br/><small>sink:file</small>"/]' in lines  # a sink, inside its body
    assert "    n_fmt --> n_keep" in lines  # the body in order
    assert '    subgraph n_gate__0["then"]' in lines
    assert '  n_ask{"ask<br/><small>checkpoint</small>"}' in lines
    assert "  n_orders --> n_each" in lines and "  n_each --> n_ask" in lines  # the plan's dependencies
    assert "  n_live --> n_gate" in lines
    assert "  n_live -.->|fallback| n_cache" in lines  # fallbacks dashed
    assert text.count("subgraph") == text.count("\n  end") + text.count("\n    end")


def test_the_graph_section_is_kept_apart_from_the_log_and_out_of_the_fingerprint(tmp_path):
    path = tmp_path / "order-report.flow.md"
    path.write_text((EXAMPLES / "order-report.flow.md").read_text())
    before = path.read_text()
    sha = parse_workflow_file(path).source_sha256
    plan = load_workflow(path).plan
    write_graph(path, plan)
    drawn = path.read_text()
    assert drawn.startswith(before[:before.index("</workflow>")]) and "## Graph" in drawn
    assert "```mermaid\n" + mermaid(plan) + "\n```" in drawn
    assert parse_workflow_file(path).source_sha256 == sha  # redrawing is not a change of the workflow
    logged = with_log(drawn, "---\n\n## Execution Log\n\n**Run ID:** `x`\n")
    assert logged.index("## Graph") < logged.index("## Execution Log")
    assert workflow_fingerprint(logged) == sha
    write_graph(path, plan)  # again: replaced, not added
    assert path.read_text() == drawn


def test_the_cli_prints_and_writes_the_graph(tmp_path):
    path = tmp_path / "enrich-foreach.flow.md"
    path.write_text((EXAMPLES / "enrich-foreach.flow.md").read_text())
    printed = invoke(["plan", "--format", "mermaid", str(path)])
    assert printed.exit_code == 0 and printed.stdout.startswith("flowchart TD\n")
    written = invoke(["plan", "--write-graph", str(path)])
    assert written.exit_code == 0 and printed.stdout.strip() in path.read_text()

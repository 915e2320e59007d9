"""Dependencies and waves (docs/language.md#planning)."""

from __future__ import annotations

import pytest

from flowscript.compiler.parser import parse_workflow_file
from flowscript.compiler.planner import build_plan
from flowscript.errors import ValidationError


def t(node_id: str, template: str = "x", input: str | None = None) -> str:
    attr = f' input="{input}"' if input else ""
    return f'<transform id="{node_id}" type="template"{attr}><template>{template}</template></transform>'


def waves(path) -> list[list[str]]:
    return [list(w.node_ids) for w in build_plan(parse_workflow_file(path)).waves]


def test_chain(write_flow):
    path = write_flow(t("a") + t("b", input="a") + t("c", input="b"))
    assert waves(path) == [["a"], ["b"], ["c"]]


def test_diamond(write_flow):
    path = write_flow(t("a") + t("b", input="a") + t("c", input="a") + t("d", "{{b.output}}{{c.output}}"))
    assert waves(path) == [["a"], ["b", "c"], ["d"]]


def test_wide_wave_keeps_file_order(write_flow):
    ids = [f"n{i}" for i in range(30, 0, -1)]
    path = write_flow("".join(t(i) for i in ids))
    assert waves(path) == [ids]


def test_wave_order_follows_the_file_not_the_discovery_order(write_flow):
    path = write_flow(t("z", input="a") + t("a") + t("m", input="a"))
    assert waves(path) == [["a"], ["z", "m"]]


def test_expression_references_add_dependencies(write_flow):
    # d names b and c only in its template; c and b are written before what they read.
    path = write_flow(t("d", "{{b.output}}+{{c.output}}") + t("c", "{{input}}C", "b") + t("b", "{{input}}B", "a")
                      + t("a", "A"))
    plan = build_plan(parse_workflow_file(path))
    assert [list(w.node_ids) for w in plan.waves] == [["a"], ["b"], ["c"], ["d"]]
    assert plan.dependencies["d"] == {"b", "c"}


def test_nested_reference_lifts_to_the_enclosing_top_level_node(write_flow):
    path = write_flow("""
<source id="src" type="file" path="x.json"/>
<if id="gate" condition="true">
  <then>
    <transform id="inner" type="template"><template>{{src.output}}</template></transform>
  </then>
</if>
""")
    plan = build_plan(parse_workflow_file(path))
    assert plan.dependencies["gate"] == {"src"}
    assert [list(w.node_ids) for w in plan.waves] == [["src"], ["gate"]]


def test_reference_to_a_nested_node_depends_on_its_top_level_ancestor(write_flow):
    path = write_flow("""
<loop id="outer" max="2">
  <transform id="step" type="template"><template>s</template></transform>
</loop>
<transform id="after" type="template"><template>{{step.output}}</template></transform>
""")
    plan = build_plan(parse_workflow_file(path))
    assert plan.dependencies["after"] == {"outer"}


def test_sibling_references_inside_a_body_add_no_dependency(write_flow):
    path = write_flow("""
<loop id="l" max="3" break="b.output == 'x'">
  <transform id="a" type="template"><template>a</template></transform>
  <transform id="b" type="template"><template>{{a.output}}</template></transform>
</loop>
""")
    plan = build_plan(parse_workflow_file(path))
    assert plan.dependencies["l"] == frozenset()


def test_hyphenated_ids_are_references(write_flow):
    path = write_flow(t("url-list", "u") + t("user", "{{length(url-list.output)}}"))
    assert waves(path) == [["url-list"], ["user"]]


def test_fallback_targets_are_not_scheduled_and_their_reads_move_to_the_user(write_flow):
    path = write_flow("""
<source id="seed" type="file" path="s.json"/>
<source id="live" type="http" url="http://127.0.0.1:9/x">
  <on-error><retry max="1"/><fallback node="cache"/></on-error>
</source>
<transform id="cache" type="template"><template>{{seed.output}}</template></transform>
""")
    plan = build_plan(parse_workflow_file(path))
    assert plan.fallback_only == {"cache"}
    assert [list(w.node_ids) for w in plan.waves] == [["seed"], ["live"]]
    assert plan.dependencies["live"] == {"seed"}
    # the node count counts every top-level node, the fallback-only one included (docs/language.md#planning)
    assert plan.total_nodes == 3 and plan.to_json()["fallbackOnly"] == ["cache"]


def test_a_fallback_target_that_is_also_read_is_scheduled(write_flow):
    path = write_flow("""
<source id="live" type="http" url="http://127.0.0.1:9/x"><on-error><fallback node="cache"/></on-error></source>
<source id="cache" type="file" path="c.json"/>
<sink id="save" type="file" input="cache" path="out.json"/>
""")
    plan = build_plan(parse_workflow_file(path))
    assert plan.fallback_only == frozenset()
    assert [list(w.node_ids) for w in plan.waves] == [["live", "cache"], ["save"]]


def test_cycle_names_the_nodes_on_it(write_flow):
    path = write_flow(t("free") + t("alpha", input="omega") + t("omega", input="alpha"))
    with pytest.raises(ValidationError) as caught:
        build_plan(parse_workflow_file(path))
    error = caught.value
    assert error.code == "VALID_CIRCULAR_DEPENDENCY"
    assert "alpha" in error.message and "omega" in error.message and "free" not in error.message
    assert error.location is not None and error.location.line > 1


def test_cycle_through_expressions(write_flow):
    path = write_flow(t("a", "{{c.output}}") + t("b", input="a") + t("c", input="b") + t("d", input="c"))
    with pytest.raises(ValidationError) as caught:
        build_plan(parse_workflow_file(path))
    assert "d" not in caught.value.message.split(": ", 1)[1].split(" -> ")


def test_long_chain_plans_one_node_per_wave_in_order(write_flow):
    # Speed is measured in bench/bench_planner.py; here the shape of a deep plan.
    n = 3000
    body = t("n0") + "".join(t(f"n{i}", input=f"n{i - 1}") for i in range(1, n))
    plan = build_plan(parse_workflow_file(write_flow(body, name="chain")))
    assert [w.node_ids for w in plan.waves] == [(f"n{i}",) for i in range(n)]

"""Validation (docs/language.md#validation): every check, with codes, locations and hints."""

from __future__ import annotations

import pytest

from flowscript.compiler.diagnostics import InvalidWorkflow
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.parser import parse_workflow_file
from flowscript.compiler.validator import check_workflow


def findings(path):
    diagnostics, _ = check_workflow(parse_workflow_file(path))
    return diagnostics


def codes(path, severity: str | None = None) -> list[str]:
    return [d.code for d in findings(path) if severity is None or d.severity == severity]


def test_a_clean_workflow_has_no_findings(write_flow):
    path = write_flow('<source id="a" type="file" path="a.json"/>\n<sink id="b" type="file" input="a" path="b.json"/>')
    assert findings(path) == []


def test_duplicate_ids_nested_included(write_flow):
    path = write_flow("""
<transform id="a" type="template"><template>x</template></transform>
<if id="gate" condition="true">
  <then><transform id="a" type="template"><template>y</template></transform></then>
</if>
""")
    found = [d for d in findings(path) if d.code == "VALID_DUPLICATE_NODE_ID"]
    assert len(found) == 1
    assert found[0].location.line == 11 and "first used at line 9" in found[0].hint


def test_unknown_input_and_fallback_with_did_you_mean(write_flow):
    path = write_flow("""
<source id="orders" type="file" path="a.json"/>
<sink id="save" type="file" input="ordres" path="b.json"/>
<source id="live" type="http" url="http://127.0.0.1:9"><on-error><fallback node="nope"/></on-error></source>
""")
    found = [d for d in findings(path) if d.code == "VALID_UNDEFINED_NODE_REF"]
    assert len(found) == 2
    assert found[0].hint == "did you mean 'orders'?"
    assert (found[0].location.line, found[0].location.column) == (10, 36)


def test_undeclared_secret_is_an_error_declared_is_fine(write_flow):
    body = '<source id="s" type="http" url="http://127.0.0.1:9/?k={{$secrets.API_KEY}}&amp;t={{$secrets[\'TOKEN\']}}"/>'
    path = write_flow(body, extra="secrets: [API_KEY]\n")
    found = [d for d in findings(path) if d.code == "VALID_UNDEFINED_SECRET_REF"]
    assert [d.message.split("'")[1] for d in found] == ["TOKEN"]


def test_expression_errors_point_at_the_file_column(write_flow):
    path = write_flow('<if id="gate" condition="1 + * 2"><then></then></if>')
    found = [d for d in findings(path) if d.code.startswith("EXPR_")]
    assert len(found) == 1 and found[0].code == "EXPR_PARSE_ERROR"
    # line 9 is the <if>; the attribute value starts at column 26; '*' is the 5th character
    assert (found[0].location.line, found[0].location.column) == (9, 30)


def test_unknown_function_is_an_error(write_flow):
    path = write_flow('<transform id="t" type="template"><template>{{uper(1)}}</template></transform>')
    found = [d for d in findings(path) if d.code == "EXPR_UNDEFINED_FUNCTION"]
    assert len(found) == 1 and "upper" in (found[0].hint or "")


def test_unknown_names_are_warnings_with_a_hint(write_flow):
    path = write_flow("""
<source id="orders" type="file" path="a.json"/>
<transform id="t" type="template"><template>{{order.output}} {{$item}} {{input}} {{$config.x}}</template></transform>
<transform id="m" type="map" input="orders" expression="$item.a + $index"/>
""")
    found = findings(path)
    assert [(d.code, d.severity) for d in found] == [("EXPR_UNDEFINED_VARIABLE", "warning")] * 2
    assert found[0].hint == "did you mean 'orders'?"


def test_a_template_with_an_error_still_reports_its_other_findings(write_flow):
    """Every diagnostic: a bad segment used to hide the unknown names and undeclared secrets of
    the template's other segments."""
    path = write_flow("""
<transform id="t" type="template"><template>{{ uper(1) }} {{ ordrs }} {{ 1 + }} {{ $secrets.NOPE }} {{ ok }}</template></transform>
<source id="orders" type="file" path="a.json"/>
""")
    found = [(d.code, d.severity, d.location.column) for d in findings(path)]
    assert found == [("EXPR_UNDEFINED_FUNCTION", "error", 48), ("EXPR_UNDEFINED_VARIABLE", "warning", 62),
                     ("EXPR_PARSE_ERROR", "error", 78), ("VALID_UNDEFINED_SECRET_REF", "error", 84),
                     ("EXPR_UNDEFINED_VARIABLE", "warning", 104)], found
    with pytest.raises(InvalidWorkflow) as invalid:  # what `validate` prints: the warnings too
        load_workflow(path)
    assert [d.severity for d in invalid.value.diagnostics].count("warning") == 2
    unclosed = write_flow('<transform id="u" type="template"><template>{{ nope }} {{ 1</template></transform>',
                          name="unclosed")
    assert [(d.code, d.severity) for d in findings(unclosed)] == [("EXPR_UNDEFINED_VARIABLE", "warning"),
                                                                  ("EXPR_PARSE_ERROR", "error")]


def test_scope_names_of_control_nodes_are_known(write_flow):
    path = write_flow("""
<source id="src" type="file" path="a.json"/>
<foreach id="each" collection="src.output" item="row" index="i">
  <transform id="f" type="template"><template>{{row.a}} {{i}}</template></transform>
</foreach>
<loop id="l" max="2" break="$iteration > 0"><transform id="g" type="template"><template>{{$iteration}}</template></transform></loop>
<parallel id="p" merge="length($branches)"><branch><transform id="h" type="template"><template>{{$branch}}</template></transform></branch></parallel>
<source id="live" type="http" url="http://127.0.0.1:9"><on-error><fallback node="fb"/></on-error></source>
<transform id="fb" type="template"><template>{{$primaryError}} {{$primaryInput}}</template></transform>
""")
    assert findings(path) == []


def test_advice_warnings(write_flow):
    path = write_flow("""
<sink id="save" type="file" path="out.json"/>
<transform id="ask" type="ai" model="m"><user>hi</user></transform>
<loop id="forever"><transform id="t" type="template"><template>x</template></transform></loop>
""")
    assert codes(path, "warning") == ["VALID_MISSING_REQUIRED_FIELD"] * 3
    assert codes(path, "error") == []


def test_missing_required_config_and_bad_enum_values(write_flow):
    path = write_flow("""
<source id="a" type="file"/>
<source id="b" type="file" path="x" format="xml"/>
<transform id="c" type="map"/>
""")
    assert codes(path) == ["VALID_MISSING_REQUIRED_FIELD", "VALID_INVALID_FIELD_TYPE", "VALID_MISSING_REQUIRED_FIELD"]


def test_cycle_is_reported_with_plan_none(write_flow):
    path = write_flow('<transform id="a" type="template" input="b"><template>x</template></transform>'
                      '<transform id="b" type="template" input="a"><template>y</template></transform>')
    diagnostics, plan = check_workflow(parse_workflow_file(path))
    assert plan is None
    assert [d.code for d in diagnostics] == ["VALID_CIRCULAR_DEPENDENCY"]


def test_parallel_wait_values(write_flow):
    path = write_flow('<parallel id="p" wait="n(3)"><branch></branch><branch></branch></parallel>')
    found = findings(path)
    assert [d.code for d in found] == ["VALID_INVALID_FIELD_TYPE"] and "between 1 and 2" in found[0].hint

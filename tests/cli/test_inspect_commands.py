"""validate, parse, plan, functions: output shapes and exit codes (0 valid, 2 invalid)."""

from __future__ import annotations

import json

from cli_support import assert_no_traceback


def test_validate_a_valid_workflow_exits_0(cli, write_flow):
    path = write_flow('<source id="a" type="file" path="a.json"/><sink id="b" type="file" input="a" path="b.json"/>')
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}: valid (0 error(s), 0 warning(s))" in result.stdout


def test_validate_reports_file_line_column_code_and_hint_and_exits_2(cli, write_flow):
    path = write_flow('<source id="a" type="file" path="a.json"/>\n<sink id="b" type="file" input="aa" path="b.json"/>')
    result = cli("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:10:33: VALID_UNDEFINED_NODE_REF" in result.stderr  # the input attribute's value
    assert "hint:" in result.stderr and "'a'" in result.stderr  # did you mean 'a'?
    assert f"{path}: invalid (1 error(s), 0 warning(s))" in result.stdout
    assert_no_traceback(result.output)


def test_validate_json_lists_every_file_and_finding(cli, write_flow):
    good = write_flow('<source id="a" type="file" path="a.json"/>', name="good")
    bad = write_flow('<transform id="t" type="map" input="a" expression="$item +"/>', name="bad")
    result = cli("validate", "--format", "json", str(good), str(bad))
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["files"][str(good)] == []
    codes = {d["code"] for d in report["files"][str(bad)]}
    assert codes == {"VALID_UNDEFINED_NODE_REF", "EXPR_PARSE_ERROR"}
    parse_error = next(d for d in report["files"][str(bad)] if d["code"] == "EXPR_PARSE_ERROR")
    assert parse_error["file"] == str(bad) and parse_error["line"] == 9 and parse_error["column"] > 40


def test_strict_turns_warnings_into_errors(cli, write_flow):
    path = write_flow('<loop id="l"><transform id="t" type="template"><template>x</template></transform></loop>')
    relaxed = cli("validate", str(path))
    assert relaxed.exit_code == 0 and "warning" in relaxed.stderr
    strict = cli("validate", "--strict", str(path))
    assert strict.exit_code == 2 and "1 error(s)" in strict.stdout


def test_an_unreadable_or_malformed_file_is_a_located_error_not_a_traceback(cli, tmp_path):
    missing = cli("validate", str(tmp_path / "nope.flow.md"))
    assert missing.exit_code == 2 and "PARSE_FILE_UNREADABLE" in missing.output
    broken = tmp_path / "broken.flow.md"
    broken.write_text("---\nname: broken\nversion: 1\n---\n<workflow>\n  <source id=\"a\" type=\"file\"\n</workflow>\n")
    result = cli("validate", str(broken))
    assert result.exit_code == 2 and f"{broken}:7:1: PARSE_XML_INVALID" in result.stderr and "line 6" in result.stderr
    for r in (missing, result):
        assert_no_traceback(r.output)


def test_parse_prints_the_ast_with_locations(cli, write_flow):
    path = write_flow('<if id="gate" condition="input > 1"><then>'
                      '<transform id="t" type="template"><template>{{input}}</template></transform></then></if>')
    result = cli("parse", str(path))
    assert result.exit_code == 0, result.output
    ast = json.loads(result.stdout)
    assert ast["meta"]["name"] == "test-flow"
    gate = ast["nodes"][0]
    assert gate["kind"] == "if" and gate["id"] == "gate" and gate["location"]["line"] == 9
    assert gate["then"][0]["id"] == "t"


def test_parse_schema_is_a_json_schema_naming_every_node_kind(cli):
    result = cli("parse", "--schema")
    schema = json.loads(result.stdout)
    assert result.exit_code == 0 and "$defs" in schema
    text = json.dumps(schema)
    for kind in ("source", "transform", "sink", "if", "branch", "loop", "while", "foreach", "parallel",
                 "checkpoint"):
        assert f'"{kind}"' in text, kind


def test_plan_prints_waves_with_kinds(cli, write_flow):
    path = write_flow('<source id="a" type="file" path="a.json"/>'
                      '<source id="b" type="http" url="http://127.0.0.1:9/b"/>'
                      '<transform id="c" type="template"><template>{{a.output}} {{b.output}}</template></transform>')
    text = cli("plan", str(path))
    assert text.exit_code == 0
    assert "wave 0: a (source:file), b (source:http)" in text.stdout
    assert "wave 1: c (transform:template)" in text.stdout
    plan = json.loads(cli("plan", "--format", "json", str(path)).stdout)
    assert [[n["id"] for n in w["nodes"]] for w in plan["waves"]] == [["a", "b"], ["c"]]
    assert plan["waves"][1]["nodes"][0] == {"id": "c", "kind": "transform:template", "dependsOn": ["a", "b"]}


def test_plan_of_a_cycle_names_the_nodes_on_it(cli, write_flow):
    path = write_flow('<transform id="a" type="template" input="b"><template>x</template></transform>'
                      '<transform id="b" type="template" input="a"><template>y</template></transform>')
    result = cli("plan", str(path))
    assert result.exit_code == 2
    assert "VALID_CIRCULAR_DEPENDENCY" in result.stderr and ("a -> b -> a" in result.stderr
                                                               or "b -> a -> b" in result.stderr)


def test_functions_lists_the_builtins(cli):
    result = cli("functions", "--format", "json")
    functions = {f["name"]: f for f in json.loads(result.stdout)}
    assert result.exit_code == 0
    assert {"upper", "sum_by", "format_date", "group_by", "uuid", "match_all"} <= set(functions)
    assert functions["upper"]["category"] == "string" and "upper(" in functions["upper"]["signature"]

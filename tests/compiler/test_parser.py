"""Elements to AST nodes (docs/language.md#workflow-files), the public entry points, and robustness properties."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowscript.compiler.ast import Workflow
from flowscript.compiler.parser import parse_workflow_file, parse_workflow_text
from flowscript.errors import FlowScriptError, MultipleErrors
from flowscript.nodes.base import BreakNode, walk
from flowscript.nodes.branch import BranchNode
from flowscript.nodes.checkpoint import CheckpointNode
from flowscript.nodes.data import SinkNode, SourceNode, TransformNode
from flowscript.nodes.foreach import ForeachNode
from flowscript.nodes.if_node import IfNode
from flowscript.nodes.loop import LoopNode
from flowscript.nodes.parallel import ParallelNode
from flowscript.nodes.while_node import WhileNode

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO.parent / "shared" / "conformance"
EXAMPLES = REPO / "flows" / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HEAD = "---\nname: t\nversion: 1.0.0\n---\n<workflow>\n"  # the body starts on line 6


def parse(body: str) -> Workflow:
    return parse_workflow_text(HEAD + body + "\n</workflow>\n", path="t.flow.md")


def problems(body: str) -> list[FlowScriptError]:
    with pytest.raises(FlowScriptError) as caught:
        parse(body)
    error = caught.value
    return error.errors if isinstance(error, MultipleErrors) else [error]


def one(body: str) -> FlowScriptError:
    found = problems(body)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]


def at(error: FlowScriptError) -> tuple[int, int]:
    assert error.location is not None and error.location.file == "t.flow.md"
    return error.location.line, error.location.column


def node(body: str) -> Any:
    workflow = parse(body)
    assert len(workflow.nodes) == 1
    return workflow.nodes[0]


def config(body: str) -> dict[str, Any]:
    return node(body).config


def lc(location: Any) -> tuple[int, int]:
    return location.line, location.column


# ------------------------------------------------------------------ data nodes


@pytest.mark.parametrize(
    ("element", "model", "kind_type"),
    [
        ('<source id="a"/>', SourceNode, "http"),
        ('<source id="a" type="file"/>', SourceNode, "file"),
        ('<transform id="a"/>', TransformNode, "template"),
        ('<transform id="a" type="map"/>', TransformNode, "map"),
        ('<transform id="a" type="filter"/>', TransformNode, "filter"),
        ('<transform id="a" type="ai"/>', TransformNode, "ai"),
        ('<sink id="a"/>', SinkNode, "http"),
        ('<sink id="a" type="file"/>', SinkNode, "file"),
    ],
)
def test_data_node_types_and_defaults(element: str, model: type, kind_type: str) -> None:
    parsed = node(element)
    assert isinstance(parsed, model) and parsed.type == kind_type and parsed.config == {}


def test_attributes_become_config_as_written() -> None:
    parsed = node('<transform id="ai-1" type="ai" input="doc" model="m/x" max-tokens="300" '
                  'base-url="{{$config.base_url}}/v1" note="  spaced  "/>')
    assert parsed.id == "ai-1" and parsed.input == "doc"
    assert parsed.config == {"model": "m/x", "max-tokens": "300", "base-url": "{{$config.base_url}}/v1",
                             "note": "  spaced  "}
    assert lc(parsed.location) == (6, 1)
    assert lc(parsed.value_locations["id"]) == (6, 16)
    assert lc(parsed.value_locations["type"]) == (6, 28)
    assert lc(parsed.value_locations["input"]) == (6, 39)
    assert lc(parsed.value_locations["max-tokens"]) == (6, 68)


def test_child_elements_become_config_with_text_locations() -> None:
    parsed = node('<transform id="t" type="ai">\n  <system>  You are terse.  </system>\n  <user>\n'
                  "    Summarise: {{input.text}}\n  </user>\n</transform>")
    assert parsed.config == {"system": "You are terse.", "user": "Summarise: {{input.text}}"}
    assert lc(parsed.value_locations["system"]) == (7, 13)
    assert lc(parsed.value_locations["user"]) == (9, 5)


def test_unknown_data_node_type_lists_the_allowed_ones() -> None:
    error = one('<source id="s" type="htp"/>')
    assert error.code == "VALID_UNKNOWN_NODE_TYPE" and at(error) == (6, 22)
    assert error.hint == "did you mean 'http'? source types: http, file"
    error = one('<transform id="t" type="reduce"/>')
    assert error.code == "VALID_UNKNOWN_NODE_TYPE" and "map, filter" in (error.hint or "")


# ------------------------------------------------------------------ key: value blocks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two or more `key: value` lines: a mapping, values as written
        ("\n  Accept: application/json\n  X-Token: {{$secrets.T}}\n",
         {"Accept": "application/json", "X-Token": "{{$secrets.T}}"}),
        ("\n  url: http://example.com:8080/a?b=c:d\n  when: {{a ? b : c}}\n",
         {"url": "http://example.com:8080/a?b=c:d", "when": "{{a ? b : c}}"}),
        ("\n  quoted: \"kept\"\n  spaced:    value  \n", {"quoted": "\"kept\"", "spaced": "value"}),
        # nested by indentation
        ("\n  a:\n    b: 1\n    c:\n      d: 2\n  e: 3\n", {"a": {"b": "1", "c": {"d": "2"}}, "e": "3"}),
        ("\n  empty:\n  next: x\n", {"empty": "", "next": "x"}),
        # blank lines are fine
        ("\n  a: 1\n\n  b: 2\n", {"a": "1", "b": "2"}),
        # a single line stays a string
        ("key: value", "key: value"),
        ("\n   key: value   \n", "key: value"),
        # not every line is `key: value`: a string
        ("\n  a: 1\n  just prose\n", "a: 1\n  just prose"),
        ("\n  a: 1\n      b: 2\n", "a: 1\n      b: 2"),
        ("\n  a:1\n  b:2\n", "a:1\n  b:2"),
        ("\n  Hello there: you\n  b: 2\n", "Hello there: you\n  b: 2"),
        ("\n  a: 1\n  a: 2\n", "a: 1\n  a: 2"),
        ("\n  - a: 1\n  - b: 2\n", "- a: 1\n  - b: 2"),
        ('\n  {"a": 1,\n   "b": 2}\n', '{"a": 1,\n   "b": 2}'),
    ],
)
def test_config_element_text_rules(text: str, expected: Any) -> None:
    assert config(f'<sink id="s" type="file"><data>{text}</data></sink>')["data"] == expected


@pytest.mark.parametrize("tag", ["expression", "condition", "template", "system", "user", "path",
                                 "output-schema"])
def test_expression_and_prose_elements_stay_strings(tag: str) -> None:
    text = "title: {{input.title}}\nbody: {{input.body}}"
    assert config(f'<transform id="t"><{tag}>\n{text}\n</{tag}></transform>')[tag] == text


def test_nested_block_locations() -> None:
    parsed = node('<sink id="s" type="file">\n  <meta>\n    a: 1\n    b:\n      c: 2\n  </meta>\n</sink>')
    assert parsed.config["meta"] == {"a": "1", "b": {"c": "2"}}
    assert lc(parsed.value_locations["meta"]) == (8, 5)
    assert lc(parsed.value_locations["meta.a"]) == (8, 8)
    assert lc(parsed.value_locations["meta.b.c"]) == (10, 10)


def test_block_starting_on_the_tag_line() -> None:
    assert config('<sink id="s" type="file"><m>a: 1\n  b: 2</m></sink>')["m"] == {"a": "1", "b": "2"}
    nested = config('<sink id="s" type="file"><m>h:\n  a: 1\n  b: 2</m></sink>')["m"]
    assert nested == {"h": {"a": "1", "b": "2"}}


@pytest.mark.parametrize("tag", ["auth", "request", "response"])
def test_forced_blocks_read_one_line_as_a_mapping(tag: str) -> None:
    parsed = config(f'<source id="s" type="file"><{tag}>type: bearer</{tag}></source>')
    assert parsed[tag] == {"type": "bearer"}


def test_forced_block_with_a_bad_line_points_at_it() -> None:
    error = one('<source id="s" type="file">\n  <auth>\n    type: bearer\n    just words\n  </auth>\n'
                '</source>')
    assert error.code == "PARSE_XML_INVALID" and at(error) == (9, 5) and error.hint


def test_template_text_with_colons_and_markup_characters() -> None:
    parsed = config('<transform id="t"><template>Total: {{a <= 5 && b}} of {{c}}:\n  done: yes</template>'
                    "</transform>")
    assert parsed["template"] == "Total: {{a <= 5 && b}} of {{c}}:\n  done: yes"


def test_config_element_holding_elements_is_an_error() -> None:
    error = one('<source id="s" type="file">\n  <headers><a>1</a></headers>\n</source>')
    assert error.code == "PARSE_XML_INVALID" and at(error) == (7, 12)
    assert "key: value" in (error.hint or "")


def test_config_element_with_attributes_is_an_error() -> None:
    error = one('<source id="s" type="file"><path kind="x">a.json</path></source>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (6, 34)


# ------------------------------------------------------------------ request / response lifting


def test_http_request_and_response_are_lifted() -> None:
    parsed = node(
        '<source id="users" type="http">\n'
        "  <request>\n"
        "    method: GET\n"
        "    url: {{$config.base_url}}/users?x=1\n"
        "    headers:\n"
        "      Accept: application/json\n"
        "    params:\n"
        "      limit: {{$config.page_size}}\n"
        "    auth:\n"
        "      type: bearer\n"
        "      token: {{$secrets.TOKEN}}\n"
        "    body: {\"a\": 1}\n"
        "    timeout: 5000\n"
        "  </request>\n"
        "  <response>\n"
        "    extract: users[?active].{name: name}\n"
        "  </response>\n"
        "</source>"
    )
    assert parsed.config == {
        "method": "GET",
        "url": "{{$config.base_url}}/users?x=1",
        "headers": {"Accept": "application/json"},
        "params": {"limit": "{{$config.page_size}}"},
        "auth": {"type": "bearer", "token": "{{$secrets.TOKEN}}"},
        "body": "{\"a\": 1}",
        "timeout": "5000",
        "extract": "users[?active].{name: name}",
    }
    assert lc(parsed.value_locations["url"]) == (9, 10)
    assert lc(parsed.value_locations["headers.Accept"]) == (11, 15)
    assert lc(parsed.value_locations["extract"]) == (21, 14)


def test_one_line_request_is_lifted_for_http_sinks() -> None:
    assert config('<sink id="s"><request>url: http://h/x</request></sink>') == {"url": "http://h/x"}


def test_non_http_nodes_keep_the_request_block() -> None:
    parsed = config('<source id="s" type="file"><request>\n  url: x\n  method: GET\n</request></source>')
    assert parsed == {"request": {"url": "x", "method": "GET"}}


def test_unknown_request_key_has_a_hint() -> None:
    error = one('<source id="s">\n  <request>\n    url: x\n    methd: GET\n  </request>\n</source>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (9, 5)
    assert (error.hint or "").startswith("did you mean 'method'?")


def test_key_given_twice_attribute_child_or_lifted() -> None:
    error = one('<source id="s" url="a">\n  <request>url: b</request>\n</source>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and "given twice" in error.message
    assert at(error) == (7, 17)
    error = one('<sink id="s" type="file" path="a">\n  <path>b</path>\n</sink>')
    assert "given twice" in error.message and at(error) == (7, 9)


# ------------------------------------------------------------------ on-error


def test_on_error_with_attributes() -> None:
    parsed = node('<source id="live" url="x">\n  <on-error>\n    <retry max="3" backoff="fixed" base="1000" '
                  'timeout="30000"/>\n    <fallback node="cache"/>\n  </on-error>\n</source>')
    assert parsed.config == {"url": "x"}
    on_error = parsed.on_error
    assert asdict(on_error.retry) == {"max_retries": 3, "backoff_base_ms": 1000, "timeout_ms": 30000,
                                           "backoff": "fixed"}
    assert on_error.fallback == "cache" and lc(on_error.location) == (9, 21)


def test_on_error_retry_as_lines_and_partial_settings() -> None:
    parsed = node('<source id="s" url="x"><on-error><retry>\n  maxRetries: 2\n  fallbackNodeId: other\n'
                  "</retry></on-error></source>")
    assert asdict(parsed.on_error.retry) == {
        "max_retries": 2, "backoff_base_ms": None, "timeout_ms": None, "backoff": "exponential"}
    assert parsed.on_error.fallback == "other"


def test_old_style_retry_child_means_the_same() -> None:
    parsed = node('<source id="s" url="x">\n  <retry>\n    maxRetries: 3\n    backoffBase: 10\n'
                  "    timeout: 1000\n    fallbackNodeId: cache\n  </retry>\n</source>")
    assert parsed.config == {"url": "x"}
    assert asdict(parsed.on_error.retry) == {"max_retries": 3, "backoff_base_ms": 10, "timeout_ms": 1000,
                                                  "backoff": "exponential"}
    assert parsed.on_error.fallback == "cache" and lc(parsed.on_error.location) == (11, 21)


def test_fallback_only_and_empty_retry() -> None:
    parsed = node('<source id="s" url="x"><on-error><fallback>cache</fallback></on-error></source>')
    assert parsed.on_error.retry is None and parsed.on_error.fallback == "cache"
    parsed = node('<source id="s" url="x"><on-error><retry/></on-error></source>')
    assert parsed.on_error.retry.max_retries is None and parsed.on_error.fallback is None
    assert lc(parsed.on_error.location) == (6, 24)


@pytest.mark.parametrize(
    ("inner", "code", "words"),
    [
        ('<retry max="2.5"/>', "VALID_INVALID_FIELD_TYPE", "whole number"),
        ('<retry max="-1"/>', "VALID_INVALID_FIELD_TYPE", "whole number"),
        ('<retry timeout="0"/>', "VALID_INVALID_FIELD_TYPE", "at least 1"),
        ('<retry backoff="linear"/>', "VALID_INVALID_FIELD_TYPE", "exponential or fixed"),
        ('<retry maximum="3"/>', "VALID_INVALID_FIELD_TYPE", "no setting"),
        ("<retry>retries: 3</retry>", "VALID_INVALID_FIELD_TYPE", "no setting"),
        ("<retry>three times</retry>", "PARSE_XML_INVALID", "key: value"),
        ('<retry max="1">maxRetries: 2</retry>', "VALID_INVALID_FIELD_TYPE", "given twice"),
        ("<fallback/>", "VALID_MISSING_REQUIRED_FIELD", "fallback"),
        ('<fallback node="a"/><fallback node="b"/>', "VALID_INVALID_FIELD_TYPE", "given twice"),
        ('<retry/><retry/>', "VALID_INVALID_FIELD_TYPE", "given twice"),
        ('<retries max="1"/>', "VALID_UNKNOWN_NODE_TYPE", "<retries>"),
    ],
)
def test_on_error_problems(inner: str, code: str, words: str) -> None:
    error = one(f'<source id="s" url="x"><on-error>{inner}</on-error></source>')
    assert error.code == code and words in error.message + (error.hint or "")


def test_retry_hints_list_the_allowed_settings() -> None:
    error = one('<source id="s" url="x"><on-error><retry maxx="1"/></on-error></source>')
    assert error.hint == "did you mean 'max'? <retry> takes max, base, timeout, backoff"
    error = one('<source id="s" url="x"><retry>maxRetry: 1</retry></source>')
    assert error.hint == ("did you mean 'maxRetries'? <retry> takes maxRetries, backoffBase, timeout, "
                          "backoff, fallbackNodeId")


def test_fallback_outside_on_error_and_both_styles() -> None:
    assert "inside <on-error>" in (one('<source id="s" url="x"><fallback node="a"/></source>').hint or "")
    error = one('<source id="s" url="x"><retry>maxRetries: 1</retry>'
                '<on-error><retry max="2"/></on-error></source>')
    assert "given twice" in error.message
    parsed = node('<source id="s" url="x"><retry>maxRetries: 1</retry>'
                  '<on-error><fallback node="c"/></on-error></source>')
    assert parsed.on_error.retry.max_retries == 1 and parsed.on_error.fallback == "c"


# ------------------------------------------------------------------ control nodes


def test_if_with_attribute_condition_then_and_else() -> None:
    parsed = node('<if id="gate" input="score" condition="score.output.value > 75 &amp;&amp; ok">\n'
                  '  <then><transform id="yes"/><sink id="save" type="file" path="p"/></then>\n'
                  '  <else><transform id="no"/></else>\n</if>')
    assert isinstance(parsed, IfNode)
    assert parsed.condition == "score.output.value > 75 && ok" and parsed.input == "score"
    assert [n.id for n in parsed.then] == ["yes", "save"] and [n.id for n in parsed.else_] == ["no"]
    assert lc(parsed.value_locations["condition"]) == (6, 40)


def test_if_condition_as_a_child_and_no_else() -> None:
    parsed = node('<if id="gate">\n  <condition>sum(input) >= $config.t && length(input) > 2</condition>\n'
                  '  <then><transform id="a"/></then>\n</if>')
    assert parsed.condition == "sum(input) >= $config.t && length(input) > 2"
    assert parsed.else_ is None and lc(parsed.value_locations["condition"]) == (7, 14)


@pytest.mark.parametrize(
    ("body", "code", "position"),
    [
        ('<if id="g"><then/></if>', "VALID_MISSING_REQUIRED_FIELD", (6, 1)),
        ('<if id="g" condition=" "><then/></if>', "VALID_MISSING_REQUIRED_FIELD", (6, 23)),
        ('<if id="g" condition="a" cond="b"><then/></if>', "VALID_INVALID_FIELD_TYPE", (6, 26)),
        ('<if id="g" condition="a"><condition>b</condition><then/></if>', "VALID_INVALID_FIELD_TYPE", (6,
                                                                                                       26)),
        ('<if id="g" condition="a"><transform id="t"/></if>', "VALID_INVALID_FIELD_TYPE", (6, 26)),
        ('<if id="g" condition="a"><than/></if>', "VALID_UNKNOWN_NODE_TYPE", (6, 26)),
        ('<if id="g" condition="a"><then/><then/></if>', "VALID_INVALID_FIELD_TYPE", (6, 33)),
        ('<if id="g" condition="a"><then x="1"/></if>', "VALID_INVALID_FIELD_TYPE", (6, 32)),
    ],
)
def test_if_problems(body: str, code: str, position: tuple[int, int]) -> None:
    error = one(body)
    assert (error.code, at(error)) == (code, position)


def test_if_hints() -> None:
    assert "<then>" in (one('<if id="g" condition="a"><transform id="t"/></if>').hint or "")
    assert one('<if id="g" condition="a"><than/></if>').hint == "did you mean <then>?"


def test_branch_cases_and_default() -> None:
    parsed = node('<branch id="route" input="event">\n  <case when="event.output.type == \'urgent\'">'
                  '<transform id="u"/></case>\n  <case when="level > 2"><transform id="l"/>'
                  '<transform id="d"/></case>\n'
                  '  <default><transform id="o"/></default>\n</branch>')
    assert isinstance(parsed, BranchNode)
    assert [c.when for c in parsed.cases] == ["event.output.type == 'urgent'", "level > 2"]
    assert [[n.id for n in c.body] for c in parsed.cases] == [["u"], ["l", "d"]]
    assert [n.id for n in parsed.default] == ["o"]
    assert lc(parsed.cases[1].location) == (8, 3) and lc(parsed.cases[1].when_location) == (8, 15)


def test_branch_without_default() -> None:
    assert node('<branch id="b"><case when="x"/></branch>').default is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<branch id="b"></branch>', "VALID_MISSING_REQUIRED_FIELD"),
        ('<branch id="b"><case><transform id="t"/></case></branch>', "VALID_MISSING_REQUIRED_FIELD"),
        ('<branch id="b"><case when="x" if="y"/></branch>', "VALID_INVALID_FIELD_TYPE"),
        ('<branch id="b"><case when="x"/><default/><default/></branch>', "VALID_INVALID_FIELD_TYPE"),
        ('<branch id="b"><case when="x"/><transform id="t"/></branch>', "VALID_INVALID_FIELD_TYPE"),
        ('<branch id="b"><cse when="x"/><case when="x"/></branch>', "VALID_UNKNOWN_NODE_TYPE"),
        ('<branch id="b" when="x"><case when="x"/></branch>', "VALID_INVALID_FIELD_TYPE"),
    ],
)
def test_branch_problems(body: str, code: str) -> None:
    assert one(body).code == code


def test_loop() -> None:
    parsed = node('<loop id="count" max="10" break="step.output == \'3\'"><transform id="step"/></loop>')
    assert isinstance(parsed, LoopNode)
    assert (parsed.max, parsed.break_, [n.id for n in parsed.body]) == ("10", "step.output == '3'", ["step"])
    assert lc(parsed.value_locations["break"]) == (6, 34)
    parsed = node('<loop id="l"><max> {{$config.n}} </max></loop>')
    assert (parsed.max, parsed.break_, parsed.body) == ("{{$config.n}}", None, [])
    assert lc(parsed.value_locations["max"]) == (6, 20)


def test_while() -> None:
    parsed = node('<while id="poll" condition="tick.output?.more ?? true" max="20">'
                  '<source id="tick"/></while>')
    assert isinstance(parsed, WhileNode)
    assert (parsed.condition, parsed.max) == ("tick.output?.more ?? true", "20")
    assert [n.id for n in parsed.body] == ["tick"]
    assert node('<while id="w"><condition>$iteration < 3</condition></while>').condition == "$iteration < 3"
    assert one('<while id="w" max="3"/>').code == "VALID_MISSING_REQUIRED_FIELD"


def test_foreach() -> None:
    parsed = node('<foreach id="each" collection="people.output" item="person" index="i" concurrency="3">'
                  '<transform id="fmt"/></foreach>')
    assert isinstance(parsed, ForeachNode)
    assert (parsed.collection, parsed.item, parsed.index) == ("people.output", "person", "i")
    assert parsed.concurrency == "3"
    parsed = node('<foreach id="each"><collection>filter(xs, x => x.score > 80)</collection></foreach>')
    assert (parsed.collection, parsed.item, parsed.index, parsed.concurrency) == (
        "filter(xs, x => x.score > 80)", "item", "index", None)
    assert node('<foreach id="e" collection="x" concurrency="{{$config.c}}"/>').concurrency == "{{$config.c}}"


@pytest.mark.parametrize(
    ("attributes", "code", "column"),
    [
        ("", "VALID_MISSING_REQUIRED_FIELD", 1),
        ('collection="x" item="1st"', "VALID_INVALID_FIELD_TYPE", 38),
        ('collection="x" item="a" index="a"', "VALID_INVALID_FIELD_TYPE", 48),
        ('collection="x" concurrency="0"', "VALID_INVALID_FIELD_TYPE", 45),
        ('collection="x" concurrency="two"', "VALID_INVALID_FIELD_TYPE", 45),
        ('collection="x" concurrency="1.5"', "VALID_INVALID_FIELD_TYPE", 45),
    ],
)
def test_foreach_problems(attributes: str, code: str, column: int) -> None:
    error = one(f'<foreach id="e" {attributes}/>')
    assert (error.code, at(error)) == (code, (6, column))


def test_parallel() -> None:
    parsed = node('<parallel id="p" concurrency="2" wait="n(2)" merge="{all: $branches}">\n'
                  '  <branch><transform id="a"/></branch>\n'
                  '  <branch><transform id="b"/><transform id="c"/></branch>\n'
                  "</parallel>")
    assert isinstance(parsed, ParallelNode)
    assert (parsed.concurrency, parsed.wait, parsed.merge) == ("2", "n(2)", "{all: $branches}")
    assert [[n.id for n in b.body] for b in parsed.branches] == [["a"], ["b", "c"]]
    assert lc(parsed.branches[1].location) == (8, 3)
    parsed = node('<parallel id="p"><branch/></parallel>')
    assert (parsed.concurrency, parsed.wait, parsed.merge) == (None, "all", "array")
    assert node('<parallel id="p"><merge>concat</merge><branch/></parallel>').merge == "concat"


def test_branch_inside_a_parallel_branch_is_a_branch_node() -> None:
    parsed = node('<parallel id="p"><branch><branch id="inner"><case when="x"/></branch></branch></parallel>')
    assert isinstance(parsed.branches[0].body[0], BranchNode)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<parallel id="p"></parallel>', "VALID_MISSING_REQUIRED_FIELD"),
        ('<parallel id="p" wait="some"><branch/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p" wait="n(0)"><branch/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p" wait="n(x)"><branch/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p" merge=""><branch/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p"><branch/><transform id="t"/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p"><branch id="x"/></parallel>', "VALID_INVALID_FIELD_TYPE"),
        ('<parallel id="p"><brunch/><branch/></parallel>', "VALID_UNKNOWN_NODE_TYPE"),
    ],
)
def test_parallel_problems(body: str, code: str) -> None:
    assert one(body).code == code


def test_checkpoint() -> None:
    parsed = node('<checkpoint id="review" prompt="Publish {{input}}?" default="approve" timeout="2000"/>')
    assert isinstance(parsed, CheckpointNode)
    assert (parsed.prompt, parsed.default, parsed.timeout) == ("Publish {{input}}?", "approve", "2000")
    parsed = node('<checkpoint id="c"><prompt>\n  Ship it?\n</prompt></checkpoint>')
    assert (parsed.prompt, parsed.default, parsed.timeout) == ("Ship it?", "reject", None)
    assert lc(parsed.value_locations["prompt"]) == (7, 3)
    error = one('<checkpoint id="c" default="maybe"/>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and error.hint == "allowed: approve, reject"
    assert one('<checkpoint id="c" timeout="soon"/>').code == "VALID_INVALID_FIELD_TYPE"
    assert one('<checkpoint id="c"><transform id="t"/></checkpoint>').code == "VALID_UNKNOWN_NODE_TYPE"


@pytest.mark.parametrize("value", ["0", "7", "{{$config.max}}", "{{ a }} "])
def test_numeric_attributes_accept_integers_and_templates(value: str) -> None:
    assert node(f'<loop id="l" max="{value}"/>').max == value.strip()


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "", "1e3", "0x10", "{ {x}}"])
def test_numeric_attributes_refuse_other_text(value: str) -> None:
    error = one(f'<loop id="l" max="{value}"/>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error)[0] == 6


# ------------------------------------------------------------------ break


def test_break_inside_loops_at_any_depth() -> None:
    parsed = node('<loop id="outer" max="5"><foreach id="inner" collection="x">'
                  '<if id="g" condition="a"><then><branch id="b"><case when="c"><break loop="outer"/></case>'
                  "<default><break/></default></branch></then></if></foreach></loop>")
    case_body = parsed.body[0].body[0].then[0].cases[0].body
    assert isinstance(case_body[0], BreakNode) and case_body[0].loop == "outer"
    assert parsed.body[0].body[0].then[0].default[0].loop is None


@pytest.mark.parametrize(
    ("body", "code", "position"),
    [
        ("<break/>", "VALID_INVALID_FIELD_TYPE", (6, 1)),
        ('<if id="g" condition="a"><then><break/></then></if>', "VALID_INVALID_FIELD_TYPE", (6, 32)),
        ('<loop id="l" max="2"><break loop="m"/></loop>', "VALID_UNDEFINED_NODE_REF", (6, 35)),
        ('<loop id="l" max="2"><break id="b"/></loop>', "VALID_INVALID_FIELD_TYPE", (6, 29)),
        ('<loop id="l" max="2"><break>now</break></loop>', "VALID_INVALID_FIELD_TYPE", (6, 22)),
    ],
)
def test_break_problems(body: str, code: str, position: tuple[int, int]) -> None:
    error = one(body)
    assert (error.code, at(error)) == (code, position)


def test_break_loop_hint_names_enclosing_loops() -> None:
    error = one('<while id="poll" condition="x"><break loop="pol"/></while>')
    assert error.hint == "did you mean 'poll'?"


# ------------------------------------------------------------------ nesting, ids, unknown elements


def test_nested_bodies_at_depth() -> None:
    workflow = parse(
        '<foreach id="f" collection="xs">\n'
        '  <parallel id="p">\n'
        '    <branch>\n'
        '      <if id="i" condition="a">\n'
        '        <then>\n'
        '          <while id="w" condition="b">\n'
        '            <branch id="br"><case when="c"><loop id="l" max="1">'
        '<transform id="deep"/></loop></case></branch>\n'
        '          </while>\n'
        '        </then>\n'
        '      </if>\n'
        '    </branch>\n'
        '    <branch><checkpoint id="ok"/></branch>\n'
        '  </parallel>\n'
        '</foreach>\n'
        '<sink id="save" type="file" input="f" path="o.json"/>'
    )
    assert [n.id for n in walk(workflow.nodes)] == ["f", "p", "i", "w", "br", "l", "deep", "ok", "save"]
    deep = next(n for n in walk(workflow.nodes) if n.id == "deep")
    assert lc(deep.location) == (12, 65)


@pytest.mark.parametrize("bad", ["1st", "a b", "a.b", "", "-x", "é!"])
def test_malformed_ids(bad: str) -> None:
    error = one(f'<transform id="{bad}"/>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (6, 16)


@pytest.mark.parametrize("good", ["a", "_a", "fetch-users", "A_1-b", "é"])
def test_valid_ids(good: str) -> None:
    assert node(f'<transform id="{good}"/>').id == good


def test_missing_id() -> None:
    error = one('<transform type="map"/>')
    assert error.code == "VALID_MISSING_REQUIRED_FIELD" and at(error) == (6, 1)
    assert "id=" in (error.hint or "")


def test_unknown_element_location_and_hint() -> None:
    body = "\n".join([
        '<source id="a" type="file" path="a.json"/>',  # line 6
        "",
        "<!-- a comment -->",
        '<if id="g" condition="true">',
        "  <then>",
        '    <transform id="ok"/>',  # line 11
        '    <trasform id="x"/>',  # line 12, column 5
        "  </then>",
        "</if>",
    ])
    error = one(body)
    assert (error.code, at(error)) == ("VALID_UNKNOWN_NODE_TYPE", (12, 5))
    assert error.hint == "did you mean <transform>?"
    assert error.render() == ("t.flow.md:12:5: VALID_UNKNOWN_NODE_TYPE unknown element <trasform>\n"
                              "  hint: did you mean <transform>?")


def test_containers_out_of_place() -> None:
    error = one("<then/>")
    assert error.code == "VALID_UNKNOWN_NODE_TYPE" and "<if>" in error.message
    assert one('<loop id="l" max="1"><case when="x"/></loop>').code == "VALID_UNKNOWN_NODE_TYPE"


def test_text_outside_an_element() -> None:
    error = one('<source id="a" type="file" path="a"/>\n  stray words\n<sink id="b" type="file" path="b"/>')
    assert (error.code, at(error)) == ("PARSE_XML_INVALID", (7, 3))
    error = one('<source id=a type="file"/>')  # unquoted: `<source id=a` is a tag and must be quoted
    assert error.code == "PARSE_XML_INVALID" and "quoted" in error.message
    error = one("<source id />")
    assert error.code == "PARSE_XML_INVALID" and "text outside" in error.message and "<" in (error.hint or "")


def test_data_nodes_hold_no_nodes() -> None:
    error = one('<source id="a"><transform id="b"/></source>')
    assert error.code == "VALID_INVALID_FIELD_TYPE" and 'input="a"' in (error.hint or "")
    assert one('<source id="a"><type>file</type></source>').code == "VALID_INVALID_FIELD_TYPE"


def test_several_node_problems_are_collected_in_order() -> None:
    body = "\n".join([
        '<transform type="map"/>',  # 6: missing id
        '<source id="s" type="ftp"/>',  # 7: unknown type
        "<trasform id='t'/>",  # 8: unknown element
        '<loop id="l" max="many"><break loop="x"/></loop>',  # 9: bad max, unknown break loop
        '<foreach id="f"/>',  # 10: missing collection
    ])
    with pytest.raises(MultipleErrors) as caught:
        parse(body)
    found = [(e.code, at(e)) for e in caught.value.errors]
    assert found == [
        ("VALID_MISSING_REQUIRED_FIELD", (6, 1)),
        ("VALID_UNKNOWN_NODE_TYPE", (7, 22)),
        ("VALID_UNKNOWN_NODE_TYPE", (8, 1)),
        ("VALID_INVALID_FIELD_TYPE", (9, 19)),
        ("VALID_UNDEFINED_NODE_REF", (9, 38)),
        ("VALID_MISSING_REQUIRED_FIELD", (10, 1)),
    ]
    assert caught.value.code == "VALID_MISSING_REQUIRED_FIELD"
    assert len(caught.value.render().splitlines()) >= 6


def test_an_xml_syntax_error_stops_the_reading() -> None:
    # the tree is read before nodes are built: only the syntax error (and metadata problems) are reported
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_text('---\nname: ""\nversion: 1.0\n---\n<workflow>\n<transform type="map"/>\n'
                            '<if id="g" condition="a"><then></if>\n<foreach id="f"/>\n</workflow>\n',
                            path="t.flow.md")
    error = caught.value
    assert isinstance(error, MultipleErrors)
    assert [(e.code, at(e)) for e in error.errors] == [("VALID_MISSING_REQUIRED_FIELD", (2, 7)),
                                                     ("PARSE_XML_INVALID", (7, 32))]


# ------------------------------------------------------------------ the file around the body


def test_documentation_around_the_body_is_ignored() -> None:
    text = ("---\nname: t\nversion: '1.0'\n---\n# Title\n\nThe `<workflow>` element below; a < b & c.\n\n"
            "```xml\n<workflow><bogus/></workflow>\n```\n\n<workflow>\n  <transform id=\"t\"/>\n</workflow>\n"
            "\n---\n\n## Execution Log\n\n| Node | Status |\n|---|---|\n| t | <b>success</b> & |\n"
            "<workflow><bad>\n")
    workflow = parse_workflow_text(text)
    assert [n.id for n in workflow.nodes] == ["t"] and lc(workflow.body_location) == (13, 1)


def test_empty_workflow_and_self_closing_workflow() -> None:
    assert parse("").nodes == []
    assert parse_workflow_text("---\nname: t\nversion: 1.0\n---\n<workflow/>\n").nodes == []


def test_workflow_without_closing_tag() -> None:
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_text('---\nname: t\nversion: 1.0\n---\n\n  <workflow>\n  <transform id="t"/>\n')
    assert caught.value.code == "PARSE_XML_INVALID" and caught.value.location.line == 6
    assert caught.value.location.column == 3


def test_crlf_and_bom_give_the_same_ast_and_lines() -> None:
    text = (FIXTURES / "lf.flow.md").read_text(encoding="utf-8")
    lf = parse_workflow_text(text)
    crlf = parse_workflow_text("\ufeff" + text.replace("\n", "\r\n"))
    assert replace(crlf, source_sha256="") == replace(lf, source_sha256="")
    bad = text.replace('<transform id="shout"', '<trasform id="shout"')
    with pytest.raises(FlowScriptError) as lf_error:
        parse_workflow_text(bad)
    with pytest.raises(FlowScriptError) as crlf_error:
        parse_workflow_text(bad.replace("\n", "\r\n"))
    assert lf_error.value.render() == crlf_error.value.render()


def test_the_fixture_in_full() -> None:
    workflow = parse_workflow_file(FIXTURES / "lf.flow.md")
    assert workflow.meta.name == "fixture" and workflow.meta.trigger.type == "schedule"
    assert [n.id for n in walk(workflow.nodes)] == ["users", "each", "shout", "gate", "save"]
    users = workflow.nodes[0]
    assert users.config["headers"] == {"Accept": "application/json"} and users.on_error.retry.max_retries == 2


# ------------------------------------------------------------------ file entry point


def test_parse_file_sets_path_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "x.flow.md"
    data = b"---\r\nname: x\r\nversion: 1.0\r\n---\r\n<workflow>\r\n</workflow>\r\n"
    path.write_bytes(data)
    workflow = parse_workflow_file(path)
    # The fingerprint covers the text up to any execution log section, trailing blank lines left out.
    expected = hashlib.sha256(data.rstrip()).hexdigest()
    assert workflow.path == str(path) and workflow.source_sha256 == expected
    assert parse_workflow_file(str(path)).path == str(path)
    text = data.decode()
    assert parse_workflow_text(text).source_sha256 == expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_file(tmp_path / "nope.flow.md")
    assert caught.value.code == "PARSE_FILE_UNREADABLE" and "nope.flow.md" in caught.value.message
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_file(tmp_path)
    assert caught.value.code == "PARSE_FILE_UNREADABLE"


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "x.flow.md"
    path.write_bytes(b"---\nname: \xc3\xa9t\xff\n")
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_file(path)
    error = caught.value
    assert error.code == "PARSE_FILE_UNREADABLE" and (error.location.line, error.location.column) == (2, 9)


def test_lone_surrogates_in_text_are_refused() -> None:
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_text("---\nname: x\ud800\n")
    assert caught.value.code == "PARSE_FILE_UNREADABLE" and caught.value.location.line == 2


# ------------------------------------------------------------------ every shipped workflow parses


def _workflow_files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


@pytest.mark.skipif(not CONFORMANCE.is_dir(),
                    reason="the shared conformance suite is not next to the repository")
@pytest.mark.parametrize("path", _workflow_files(CONFORMANCE, "*/workflow.flow.md"),
                         ids=lambda p: p.parent.name)
def test_conformance_workflows_parse(path: Path) -> None:
    workflow = parse_workflow_file(path)
    assert workflow.meta.name and workflow.nodes
    assert workflow.meta.config["base_url"].default == "http://127.0.0.1:9"


@pytest.mark.parametrize("path", _workflow_files(EXAMPLES, "*.flow.md"), ids=lambda p: p.name)
def test_example_workflows_parse(path: Path) -> None:
    assert parse_workflow_file(path).nodes


@pytest.mark.skipif(not CONFORMANCE.is_dir(),
                    reason="the shared conformance suite is not next to the repository")
def test_conformance_details() -> None:
    def load(case: str) -> Workflow:
        return parse_workflow_file(CONFORMANCE / case / "workflow.flow.md")

    users = load("04-http-source").nodes[0]
    assert users.config == {"extract": "[*].name", "method": "GET", "url": "{{$config.base_url}}/users"}
    flaky = load("13-retry-then-success").nodes[0]
    assert flaky.on_error.retry.max_retries == 2 and flaky.on_error.retry.backoff_base_ms == 5
    assert load("14-fallback-node").nodes[0].on_error.fallback == "cache"
    loop = load("11-loop-break").nodes[4]
    assert isinstance(loop.body[1].then[0], BreakNode)
    assert load("02-filter-map").nodes[1].config == {"condition": "$item.score > 50"}


# ------------------------------------------------------------------ robustness (hypothesis)

VALID = (FIXTURES / "lf.flow.md").read_text(encoding="utf-8")
PIECES = ["<", ">", "/>", "</", "&", "&amp;", "&&", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE x>",
          "<?x?>",
          '"', "'", "=", " ", "\n", "\r\n", "---\n", "{{", "}}", ":", ": ", "  ", "\t", "\ufeff",
          "<workflow>", "</workflow>", "<if id=\"i\" condition=\"a\">", "</if>", "<then>", "</then>",
          "<else>",
          "<branch>", "</branch>", "<case when=\"x\">", "</case>", "<loop id=\"l\">", "</loop>", "<break/>",
          "<foreach id=\"f\" collection=\"x\">", "</foreach>", "<parallel id=\"p\">", "</parallel>",
          "<source id=\"s\">", "</source>", "<request>", "</request>", "url: x", "<on-error>",
          "<retry max=\"1\"/>",
          "<fallback node=\"s\"/>", "</on-error>", "<transform id=\"t\">", "<template>", "</template>",
          "name: x\n", "version: 1.0\n", "config: {a: 1}\n", "trigger: [", "&a [*a]", "é", "😀", "\x00",
          "\ud800"]


def _quiet_parse(text: str) -> None:
    started = time.perf_counter()
    try:
        parse_workflow_text(text, path="fuzz.flow.md")
    except FlowScriptError as e:
        assert e.code and e.message
        for error in e.errors if isinstance(e, MultipleErrors) else [e]:
            assert error.location is not None and error.location.line >= 1 and error.location.column >= 1
            assert error.render().startswith("fuzz.flow.md:")
    assert time.perf_counter() - started < 2.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2_000))
def test_arbitrary_text_only_raises_flowscript_errors(text: str) -> None:
    _quiet_parse(text)
    _quiet_parse("---\nname: x\nversion: 1.0\n---\n<workflow>" + text)
    _quiet_parse("---\n" + text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_markup_soup_only_raises_flowscript_errors(pieces: list[str]) -> None:
    _quiet_parse("---\nname: x\nversion: 1.0\n---\n<workflow>" + "".join(pieces) + "</workflow>")
    _quiet_parse("".join(pieces))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 6))):
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 80)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "piece"]))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "insert":
            text = text[:start] + draw(st.text(max_size=12)) + text[start:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:start] + draw(st.sampled_from(PIECES)) + text[start:]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_workflows_only_raise_flowscript_errors(text: str) -> None:
    _quiet_parse(text)

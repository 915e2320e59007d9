"""Templates (docs/language.md#templates): `{{ expr }}` segments printed as JavaScript would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_template, is_template, to_template_string

SCOPE: dict[str, Any] = {
    "input": {"name": "ada", "tags": ["x", "y"], "nothing": None, "n": 4, "meta": {"a": 1, "b": [1, 2]}},
    "$config": {"who": "world", "num": 4},
}


def render(source: str, scope: dict[str, Any] | None = None) -> str:
    return compile_template(source).render(SCOPE if scope is None else scope)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{1 + 2}}", "3"),
        ("{{2.5 * 2}}", "5"),
        ("{{1 / 4}}", "0.25"),
        ("{{$config.num / 2}}", "2"),
        ("{{0.1 + 0.2}}", "0.30000000000000004"),
        ("{{1e21}}", "1e+21"),
        ("{{[1, 2]}}", "[1,2]"),
        ("{{input.tags}}", '["x","y"]'),
        ("{{input.meta}}", '{"a":1,"b":[1,2]}'),
        ("{{ [1.0, 2.5, null, 0/0] }}", "[1,2.5,null,null]"),
        ("{{input.nothing}}", ""),
        ("{{input.missing}}", ""),
        ("{{true}}|{{false}}", "true|false"),
        ("{{'n=' + $config.num}}", "n=4"),
        ("{{upper($config.who)}}", "WORLD"),
        ("Hello {{ input.name }}!", "Hello ada!"),
        ("{{ input.name }}{{ input.name }}", "adaada"),
        ("a {{ {x: {y: 1}} }} b", 'a {"x":{"y":1}} b'),  # }} of an object literal does not end it
        ("{{ '}}' }}", "}}"),  # nor does one inside a string
        ("{{ \"a\\\"}}\" }}", 'a"}}'),
        ("no braces at all", "no braces at all"),
        ("single { and } and }} stay", "single { and } and }} stay"),
        ("{{ 1 }}}", "1}"),
        ("", ""),
        ("{{-1}}", "-1"),
        ("{{ 'é😀' }}", "é😀"),
    ],
)
def test_render(source: str, expected: str) -> None:
    assert render(source) == expected


def test_conformance_template_line() -> None:
    source = ("{{1 + 2}}|{{2.5 * 2}}|{{1 / 4}}|{{$config.num / 2}}|{{input.tags}}|{{doc.output.meta}}|"
              "{{input.nothing}}|{{input.missing}}|{{'n=' + $config.num}}|{{upper($config.who)}}|"
              "{{input.name}}")
    scope = {**SCOPE, "doc": {"output": SCOPE["input"]}}
    assert render(source, scope) == '3|5|0.25|2|["x","y"]|{"a":1,"b":[1,2]}|||n=4|WORLD|ada'


def test_single_expression_keeps_the_raw_value() -> None:
    template = compile_template("{{ input.tags }}")
    assert template.is_single_expression
    assert template.evaluate(SCOPE) == ["x", "y"]
    assert template.render(SCOPE) == '["x","y"]'
    assert compile_template("{{ input.n }}").evaluate(SCOPE) == 4
    assert compile_template("{{ input.nothing }}").evaluate(SCOPE) is None
    # surrounding whitespace is allowed and dropped
    spaced = compile_template("  {{ input.tags }}\n")
    assert spaced.is_single_expression and spaced.evaluate(SCOPE) == ["x", "y"]
    assert spaced.render(SCOPE) == '  ["x","y"]\n'


@pytest.mark.parametrize("source", ["a{{ 1 }}", "{{ 1 }}{{ 2 }}", "{{1}} x", "plain", ""])
def test_anything_else_is_a_string(source: str) -> None:
    template = compile_template(source)
    assert not template.is_single_expression
    assert isinstance(template.evaluate(SCOPE), str)


def test_plain_text_is_returned_as_is() -> None:
    text = "just text with } and { and $item"
    template = compile_template(text)
    assert template.render({}) is text
    assert template.names == frozenset()


def test_is_template() -> None:
    assert is_template("a {{ b }}")
    assert is_template("{{")
    assert not is_template("a { b }")
    assert not is_template("")


def test_unclosed_braces_point_at_their_position() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_template("Hello {{ name")
    assert info.value.code == "EXPR_PARSE_ERROR"
    assert info.value.position == 6
    assert info.value.expression == "Hello {{ name"
    with pytest.raises(ExpressionError) as info:
        compile_template("ok {{ a }} then {{ b")
    assert info.value.position == 16
    # an unterminated string inside a segment is reported at its quote
    with pytest.raises(ExpressionError) as info:
        compile_template("ok {{ a }} then {{ 'unterminated }}")
    assert info.value.position == 19 and "unterminated string" in info.value.message


def test_errors_inside_a_segment_point_into_the_template() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_template("abc {{ 1 + }} def")
    assert info.value.code == "EXPR_PARSE_ERROR"
    assert info.value.position == 11  # the end of the segment, where an operand was expected
    assert info.value.expression == "abc {{ 1 + }} def"
    with pytest.raises(ExpressionError) as info:
        compile_template("x {{ a }} {{ uper(a) }}")
    assert info.value.code == "EXPR_UNDEFINED_FUNCTION"
    assert info.value.position == 13
    with pytest.raises(ExpressionError) as info:
        compile_template("x {{ }}")
    assert info.value.position == 5 and "empty" in info.value.message


def test_evaluation_errors_point_into_the_template() -> None:
    template = compile_template("ab {{ x[k] }}")
    with pytest.raises(ExpressionError) as info:
        template.render({"x": {}, "k": "__proto__"})
    assert info.value.code == "EXPR_BLOCKED_ACCESS"
    assert info.value.position == 7
    assert info.value.expression == "ab {{ x[k] }}"
    with pytest.raises(ExpressionError) as info:
        compile_template("{{ map(1, x => x) }}").evaluate({})
    assert info.value.position == 3 and info.value.code == "EXPR_TYPE_ERROR"


def test_template_names_are_offsets_in_the_template() -> None:
    template = compile_template("{{ a }} and {{ b.c + url-list.x }}", node_ids={"url-list"})
    assert template.names == frozenset({"a", "b", "url-list"})
    assert template.name_positions == (("a", 3), ("b", 15), ("url-list", 21))


def test_braces_never_nest() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_template("{{ {{ a }} }}")
    assert info.value.code == "EXPR_PARSE_ERROR"


def test_rendered_size_is_limited() -> None:
    from flowscript.expressions import Limits

    template = compile_template("{{ a }}{{ a }}")
    with pytest.raises(ExpressionError) as info:
        template.render({"a": "x" * 60}, Limits(max_string_length=100))
    assert info.value.code == "EXPR_EVAL_ERROR"
    with pytest.raises(ExpressionError):
        compile_template("<{{ a }}>").render({"a": ["x" * 60, "y" * 60]}, Limits(max_string_length=100))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""), (True, "true"), (False, "false"), (3, "3"), (3.0, "3"), (-0.0, "0"), (0.5, "0.5"),
        (1e21, "1e+21"), (1e-7, "1e-7"), (123e-20, "1.23e-18"), (2**53 + 2.0, "9007199254740994"),
        (1.2345678901234568e20, "123456789012345680000"), (float("nan"), "NaN"), (float("inf"), "Infinity"),
        (10**22, "1e+22"), ("s", "s"), ([1, "a", None], '[1,"a",null]'), ({"k": [1.5]}, '{"k":[1.5]}'),
        ([], "[]"), ({}, "{}"),
    ],
)  # fmt: skip
def test_to_template_string(value: Any, expected: str) -> None:
    assert to_template_string(value) == expected


def test_compile_template_is_cached() -> None:
    assert compile_template("{{ a }} x") is compile_template("{{ a }} x")
    assert json.loads(compile_template("{{ [a] }}").render({"a": 1})) == [1]

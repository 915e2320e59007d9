"""Every mistake is an ExpressionError with a stable code and the position of the problem."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression


def error_of(source: str, scope: dict[str, Any] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source).evaluate(scope or {})
    return info.value


@pytest.mark.parametrize(
    ("source", "code", "position", "words"),
    [
        ("", "EXPR_PARSE_ERROR", 0, "empty"),
        ("   ", "EXPR_PARSE_ERROR", 3, "empty"),
        ("1 +", "EXPR_PARSE_ERROR", 3, "expected an expression"),
        ("(1 + 2", "EXPR_PARSE_ERROR", 0, "missing ')'"),
        ("(1 + 2 3", "EXPR_PARSE_ERROR", 7, "expected ')'"),
        ("upper('a'", "EXPR_PARSE_ERROR", 0, "missing ')' to close the call upper("),
        ("upper('a' 'b')", "EXPR_PARSE_ERROR", 10, "expected ',' or ')'"),
        ("[1, 2", "EXPR_PARSE_ERROR", 0, "missing ']'"),
        ("{a: 1", "EXPR_PARSE_ERROR", 0, "missing '}'"),
        ("{a: 1 b: 2}", "EXPR_PARSE_ERROR", 6, "expected ',' or '}'"),
        ("[1 2]", "EXPR_PARSE_ERROR", 3, "expected ',' or ']'"),
        ("{a 1}", "EXPR_PARSE_ERROR", 3, "expected ':'"),
        ("a b", "EXPR_PARSE_ERROR", 2, "unexpected 'b'"),
        ("1 2", "EXPR_PARSE_ERROR", 2, "unexpected the number 2"),
        ("'open", "EXPR_PARSE_ERROR", 0, "unterminated string"),
        ("a = 1", "EXPR_PARSE_ERROR", 2, "assignment is not allowed"),
        ("a += 1", "EXPR_PARSE_ERROR", 3, "assignment is not allowed"),
        ("a; b", "EXPR_PARSE_ERROR", 1, "statements are not allowed"),
        ("this.x", "EXPR_PARSE_ERROR", 0, "'this'"),
        ("new Date()", "EXPR_PARSE_ERROR", 0, "'new' is not allowed"),
        ("function() { return 1 }", "EXPR_PARSE_ERROR", 0, "arrows"),
        ("return 1", "EXPR_PARSE_ERROR", 0, "statements are not allowed"),
        ("let x", "EXPR_PARSE_ERROR", 0, "declarations"),
        ("x => x", "EXPR_PARSE_ERROR", 0, "only allowed as arguments"),
        ("(a, b) => a", "EXPR_PARSE_ERROR", 0, "only allowed as arguments"),
        ("1 + (x => x)", "EXPR_PARSE_ERROR", 5, "only allowed as arguments"),
        ("`tpl`", "EXPR_PARSE_ERROR", 0, "template literals"),
        ("a & b", "EXPR_PARSE_ERROR", 2, "bitwise"),
        ("[...a]", "EXPR_PARSE_ERROR", 1, "spread"),
        ("[1,,2]", "EXPR_PARSE_ERROR", 3, "empty array slots"),
        ("a.", "EXPR_PARSE_ERROR", 2, "property name"),
        ("3x", "EXPR_PARSE_ERROR", 1, "after a number"),
        ("'\\x4'", "EXPR_PARSE_ERROR", 1, "\\x escape"),
        ("typeof x", "EXPR_PARSE_ERROR", 0, "typeof(x)"),
        ("a in b", "EXPR_PARSE_ERROR", 2, "'in' operator"),
        ("(1)(2)", "EXPR_PARSE_ERROR", 3, "only built-in functions can be called"),
        ("xs[0](1)", "EXPR_BLOCKED_ACCESS", 2, "method calls are not allowed"),
        ("name.upper()", "EXPR_BLOCKED_ACCESS", 5, "write upper(x, ...) instead of x.upper(...)"),
        ("a?.b()", "EXPR_BLOCKED_ACCESS", 3, "method calls"),
        ("a?.()", "EXPR_BLOCKED_ACCESS", 1, "optional calls"),
        ("x.constructor", "EXPR_BLOCKED_ACCESS", 2, "'constructor'"),
        ("x['__proto__']", "EXPR_BLOCKED_ACCESS", 2, "'__proto__'"),
        ("x.prototype.y", "EXPR_BLOCKED_ACCESS", 2, "'prototype'"),
        ("1 + __class__", "EXPR_BLOCKED_ACCESS", 4, "'__class__'"),
        ("constructor", "EXPR_BLOCKED_ACCESS", 0, "'constructor'"),
        ("{__proto__: 1}", "EXPR_BLOCKED_ACCESS", 1, "'__proto__'"),
        ("map(xs, __x => 1)", "EXPR_BLOCKED_ACCESS", 8, "'__x'"),
        ("uper(name)", "EXPR_UNDEFINED_FUNCTION", 0, "unknown function 'uper'"),
        ("1 + nosuchfn()", "EXPR_UNDEFINED_FUNCTION", 4, "unknown function"),
        ("upper()", "EXPR_TYPE_ERROR", 0, "upper() takes 1 argument, got 0"),
        ("  upper(1, 2)", "EXPR_TYPE_ERROR", 2, "takes 1 argument, got 2"),
        ("substring('abc')", "EXPR_TYPE_ERROR", 0, "takes 2 to 3 arguments"),
        ("reduce(xs, (a, b) => a, 0, 1)", "EXPR_TYPE_ERROR", 0, "takes 2 to 3 arguments"),
        ("upper(x => x)", "EXPR_TYPE_ERROR", 6, "does not take a function"),
        ("map(xs, x => x, 1)", "EXPR_TYPE_ERROR", 0, "takes 2 arguments"),
        ("map(xs, (x, x) => x)", "EXPR_PARSE_ERROR", 12, "duplicate parameter"),
        ("map(xs, x => { return x })", "EXPR_PARSE_ERROR", 13, "expression body"),
    ],
)
def test_compile_errors(source: str, code: str, position: int, words: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source)
    error = info.value
    assert error.code == code, error.message
    assert error.position == position, error.message
    assert words in error.message
    assert error.expression == source
    assert error.column == position + 1


def test_undefined_function_has_a_did_you_mean_hint() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("to_numbr(x)")
    assert info.value.hint == "did you mean 'to_number'?"
    with pytest.raises(ExpressionError) as info:
        compile_expression("qqqqqqq(x)")
    assert "did you mean" not in (info.value.hint or "")


def test_arity_error_hint_shows_the_signature() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("truncate('abc')")
    assert info.value.hint == "truncate(s, n, suffix=\"...\")"


@pytest.mark.parametrize(
    ("source", "scope", "code", "position"),
    [
        ("x[k]", {"x": {}, "k": "__proto__"}, "EXPR_BLOCKED_ACCESS", 1),
        ("x[k]", {"x": [], "k": "constructor"}, "EXPR_BLOCKED_ACCESS", 1),
        ("{[k]: 1}", {"k": "__class__"}, "EXPR_BLOCKED_ACCESS", 1),
        ("1 + map(xs, 5)", {"xs": [1]}, "EXPR_TYPE_ERROR", 4),
        ("map('abc', x => x)", {}, "EXPR_TYPE_ERROR", 0),
        ("  range(0, 10, 0)", {}, "EXPR_EVAL_ERROR", 2),
        ("format_date('2024-01-01', 'yyyy', 'Nowhere/City')", {}, "EXPR_EVAL_ERROR", 0),
        ("add_time('2024-01-01', 'P1X')", {}, "EXPR_EVAL_ERROR", 0),
        ("match('a', '(')", {}, "EXPR_EVAL_ERROR", 0),
        ("sort([1], 'a', 'sideways')", {}, "EXPR_TYPE_ERROR", 0),
        ("map([1], x => upper(x) + map(x, y => y))", {}, "EXPR_TYPE_ERROR", 25),
    ],
)
def test_evaluation_errors_point_at_the_failing_node(source: str, scope: dict[str, Any], code: str,
                                                     position: int) -> None:
    error = error_of(source, scope)
    assert error.code == code, error.message
    assert error.position == position, error.message
    assert error.expression == source


def test_errors_render_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("a + + ")
    rendered = info.value.render()
    assert "EXPR_PARSE_ERROR" in rendered
    assert rendered.endswith("in: a + + \n            ^")


@pytest.mark.parametrize("depth", [100, 10_000])
@pytest.mark.parametrize("shape", ["({})", "[{}]", "f({})", "-{}", "!{}", "{{a: {}}}", "2 ** {}",
                                   "c ? {} : 1"])
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(shape: str, depth: int) -> None:
    source = "1"
    left, right = shape.split("{}") if shape != "{{a: {}}}" else ("{a: ", "}")
    source = left * depth + "1" + right * depth
    with pytest.raises(ExpressionError) as info:
        compile_expression(source)
    assert info.value.code == "EXPR_PARSE_ERROR"
    assert "too deeply nested" in info.value.message


def test_long_flat_chains_are_fine_up_to_the_tree_limit() -> None:
    assert compile_expression("+".join(["1"] * 200)).evaluate({}) == 200
    with pytest.raises(ExpressionError) as info:
        compile_expression("+".join(["1"] * 20_000))
    assert info.value.code == "EXPR_PARSE_ERROR" and "too deeply nested" in info.value.message


def test_reasonable_nesting_works() -> None:
    assert compile_expression("(" * 50 + "1" + ")" * 50).evaluate({}) == 1
    assert compile_expression("upper(" * 40 + "'x'" + ")" * 40).evaluate({}) == "X"


def test_source_length_limit() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("1 + " * 30_000 + "1")
    assert info.value.code == "EXPR_PARSE_ERROR" and "too long" in info.value.message


def test_non_string_source_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        compile_expression(42)  # type: ignore[arg-type]


def test_hostile_scopes_only_raise_expression_errors() -> None:
    class Exploding(dict):  # type: ignore[type-arg]
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("boom")

    with pytest.raises(ExpressionError) as info:
        compile_expression("a.b").evaluate(Exploding())
    assert info.value.code == "EXPR_EVAL_ERROR"
    with pytest.raises(ExpressionError):
        compile_expression("a").evaluate(None)  # type: ignore[arg-type]


def test_self_referencing_values_do_not_crash() -> None:
    loop: list[Any] = []
    loop.append(loop)
    error = error_of("json_encode(x)", {"x": loop})
    assert error.code == "EXPR_EVAL_ERROR"
    error = error_of("'' + x", {"x": loop})
    assert error.code == "EXPR_EVAL_ERROR"

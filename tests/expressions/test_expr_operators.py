"""Operators, precedence, truthiness and equality follow JavaScript (docs/language.md#expression-syntax)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression, to_json, to_template_string, truthy


def ev(source: str, scope: dict[str, Any] | None = None) -> Any:
    return compile_expression(source).evaluate(scope or {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left-associative
        ("2 * 3 % 4", 2),
        ("2 ** 3 ** 2", 512),  # right-associative
        ("(2 ** 3) ** 2", 64),
        ("-2 + 3", 1),
        ("2 ** -1", 0.5),
        ("1 + 2 > 2", True),
        ("1 < 2 == true", True),  # relational binds tighter than equality
        ("1 == 1 && 2 == 3", False),
        ("1 || 0 && 0", 1),  # && binds tighter than ||
        ("(1 || 0) && 0", 0),
        ("0 ? 'a' : 1 ? 'b' : 'c'", "b"),  # nested ternary, right-associative
        ("1 ? 2 ? 'x' : 'y' : 'z'", "x"),
        ("!0 + 1", 2),  # unary binds tighter than +
        ("-(1 + 2)", -3),
        ("+'3' + 1", 4),
        ("null ?? 1 + 1", 2),
        ("(false || null) ?? 'd'", "d"),
    ],
)
def test_precedence(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("4 / 2", 2),
        ("1 / 4", 0.25),
        ("7 % 3", 1),
        ("-7 % 3", -1),  # sign of the dividend
        ("7 % -3", 1),
        ("5.5 % 2", 1.5),
        ("2 ** 10", 1024),
        ("0.1 + 0.2", 0.30000000000000004),
        ("2.5 * 2", 5.0),
        ("9007199254740992 + 2", 9007199254740994.0),  # beyond 2**53 numbers are floats
        ("'5' * '2'", 10),
        ("'3' - 1", 2),
        ("true + 1", 2),
        ("null + 1", 1),
        ("[] * 2", 0),
        ("[5] * 2", 10),
    ],
)
def test_arithmetic(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert isinstance(result, int) == isinstance(expected, int)


def test_int_results_stay_int_and_exact_divisions_too() -> None:
    assert type(ev("4 / 2")) is int
    assert type(ev("3 * 4")) is int
    assert type(ev("1 / 3")) is float


@pytest.mark.parametrize(
    ("source", "check"),
    [
        ("1 / 0", lambda v: v == math.inf),
        ("-1 / 0", lambda v: v == -math.inf),
        ("0 / 0", lambda v: math.isnan(v)),
        ("5 % 0", lambda v: math.isnan(v)),
        ("(-8) ** (1 / 3)", lambda v: math.isnan(v)),
        ("9 ** 9 ** 9", lambda v: v == math.inf),
        ("10 ** 400", lambda v: v == math.inf),
        ("-'x'", lambda v: math.isnan(v)),
        ("'a' * 2", lambda v: math.isnan(v)),
        ("1 ** (0 / 0)", lambda v: math.isnan(v)),
        ("Infinity - Infinity", lambda v: math.isnan(v)),
        ("0 ** -1", lambda v: v == math.inf),
    ],
)
def test_js_number_edge_cases_never_raise(source: str, check: Any) -> None:
    assert check(ev(source))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'a' + 1", "a1"),
        ("1 + 'a'", "1a"),
        ("'n=' + 2.0", "n=2"),
        ("'x' + null", "xnull"),
        ("'x' + true", "xtrue"),
        ("'x' + [1, 2]", "x1,2"),
        ("'x' + [1, [2, null]]", "x1,2,"),
        ("'x' + {}", "x[object Object]"),
        ("[1] + [2]", "12"),
        ("'' + 0.1 * 3", "0.30000000000000004"),
        ("'' + 1e21", "1e+21"),
        ("'' + 1e-7", "1e-7"),
        ("'' + 0.000001", "0.000001"),
        ("'' + (0 / 0)", "NaN"),
        ("'' + -1 / 0", "-Infinity"),
    ],
)
def test_plus_concatenates_with_js_string_conversion(source: str, expected: str) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, False), (0.0, False), (-0.0, False), (math.nan, False), ("", False), (None, False),
        (False, False),
        (1, True), (-1, True), (0.5, True), ("0", True), ("false", True), (" ", True), ([], True), ({}, True),
        (True, True), (math.inf, True),
    ],
)  # fmt: skip
def test_truthiness(value: Any, expected: bool) -> None:
    assert truthy(value) is expected
    assert ev("!!v", {"v": value}) is expected
    assert ev("v ? 'y' : 'n'", {"v": value}) == ("y" if expected else "n")


LOOSE = [
    ("null == undefined", True),
    ("null == 0", False),
    ("null == ''", False),
    ("null == false", False),
    ("1 == '1'", True),
    ("0 == ''", True),
    ("0 == '0'", True),
    ("'' == '0'", False),
    ("true == 1", True),
    ("true == '1'", True),
    ("false == 0", True),
    ("false == ''", True),
    ("true == 2", False),
    ("1 == 1.0", True),
    ("'a' == 'a'", True),
    ("[1] == 1", True),
    ("[1, 2] == '1,2'", True),
    ("[] == []", False),  # objects compare by identity
    ("{} == '[object Object]'", True),
    ("(0 / 0) == (0 / 0)", False),
]


@pytest.mark.parametrize(("source", "expected"), LOOSE)
def test_loose_equality_table(source: str, expected: bool) -> None:
    assert ev(source) is expected
    assert ev(source.replace("==", "!=")) is (not expected)


STRICT = [
    ("1 === 1.0", True),
    ("1 === '1'", False),
    ("true === 1", False),
    ("null === undefined", True),  # both are null here
    ("null === 0", False),
    ("'a' === 'a'", True),
    ("[] === []", False),
    ("(0 / 0) === (0 / 0)", False),
    ("false === false", True),
]


@pytest.mark.parametrize(("source", "expected"), STRICT)
def test_strict_equality_table(source: str, expected: bool) -> None:
    assert ev(source) is expected
    assert ev(source.replace("===", "!==")) is (not expected)


def test_same_object_is_equal_to_itself() -> None:
    tags = ["a"]
    assert ev("x == x && x === x", {"x": tags}) is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'b' > 'a'", True),
        ("'B' < 'a'", True),
        ("'10' < '9'", True),  # string comparison
        ("'10' < 9", False),  # numeric when one side is a number
        ("null >= 0", True),
        ("null > 0", False),
        ("(0 / 0) < 1", False),
        ("(0 / 0) >= 1", False),
        ("[2] > 1", True),
        ("2 <= 2.0", True),
        ("true > false", True),
    ],
)
def test_relational(source: str, expected: bool) -> None:
    assert ev(source) is expected


def test_short_circuit_returns_operands_and_skips_the_other_side() -> None:
    huge = "repeat('x', 1e12)"  # would fail if evaluated
    assert ev(f"0 && {huge}") == 0
    assert ev(f"'' && {huge}") == ""
    assert ev(f"'a' || {huge}") == "a"
    assert ev(f"5 ?? {huge}") == 5
    assert ev(f"false ? {huge} : 'no'") == "no"
    assert ev("null || 'dflt'") == "dflt"
    assert ev("1 && 'last'") == "last"
    assert ev("0 ?? 'kept'") == 0
    assert ev("'' ?? 'kept'") == ""
    assert ev("missing ?? 'dflt'") == "dflt"
    with pytest.raises(ExpressionError):
        ev(f"1 && {huge}")


def test_unary_operators() -> None:
    assert ev("!true") is False
    assert ev("!''") is True
    assert ev("-'4'") == -4
    assert ev("+true") == 1
    assert ev("+null") == 0
    assert ev("- -3") == 3
    assert ev("!!{}") is True


def test_mixing_nullish_with_or_needs_parentheses() -> None:
    with pytest.raises(ExpressionError) as e:
        ev("a ?? b || c")
    assert e.value.code == "EXPR_PARSE_ERROR"
    assert e.value.position == 7
    assert ev("(a ?? b) || 'c'") == "c"
    assert ev("a ?? (b || 'c')") == "c"


def test_unary_before_power_needs_parentheses() -> None:
    with pytest.raises(ExpressionError) as e:
        ev("-2 ** 2")
    assert e.value.code == "EXPR_PARSE_ERROR" and e.value.position == 0
    assert ev("(-2) ** 2") == 4
    assert ev("-(2 ** 2)") == -4


def test_literals() -> None:
    assert ev("0x1F") == 31
    assert ev("0b101") == 5
    assert ev("0o17") == 15
    assert ev(".5") == 0.5
    assert ev("1e3") == 1000
    assert ev("1.5E-3") == 0.0015
    assert ev("undefined") is None
    assert ev("null") is None
    assert math.isnan(ev("NaN")) and ev("Infinity") == math.inf
    assert ev(r"'it\'s \"q\" \\ \n\t'") == "it's \"q\" \\ \n\t"
    assert ev(r"'\u00e9\u{1F600}\x41'") == "é😀A"
    assert ev(r"'\uD83D\uDE00'") == "😀"  # a surrogate pair becomes one character
    assert ev(r"'\uD83D'") == "\ufffd"  # a lone half cannot be written out as UTF-8
    assert ev('"double"') == "double"
    assert ev("[1, 2, ]") == [1, 2]
    assert ev("{a: 1, }") == {"a": 1}
    assert ev("{1: 'one', 'two words': 2, true: 3}") == {"1": "one", "two words": 2, "true": 3}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 / -0", "-Infinity"),  # an integer zero keeps its sign, as in JavaScript
        ("1 / (0 * -1)", "-Infinity"),
        ("1 / (0 / -5)", "-Infinity"),
        ("1 / (-4 % 2)", "-Infinity"),
        ("1 / +'-0'", "-Infinity"),
        ("1 / to_number('-0')", "-Infinity"),
        ("1 / -(-0)", "Infinity"),
        ("1 / (0 * 5)", "Infinity"),
        ("1 / (0 - 0)", "Infinity"),
    ],
)
def test_negative_zero_keeps_its_sign(source: str, expected: str) -> None:
    assert to_template_string(ev(source)) == expected


def test_negative_zero_prints_and_compares_as_zero() -> None:
    assert to_template_string(ev("-0")) == "0" and to_json(ev("[-0, 0 * -1]")) == "[0,0]"
    assert ev("-0 === 0") is True and ev("0 * -1 == 0") is True and ev("-0 < 0") is False


@pytest.mark.parametrize("source", ['"4294967296" * "4294967296"', "4294967296 * 4294967296", "'3' * 9007199254740993"])
def test_a_product_beyond_the_safe_integers_is_a_float_whatever_its_operands(source: str) -> None:
    """(The signed-zero rule of `*` is for a zero product only: a large one is still a JS double.)"""
    assert isinstance(ev(source), float)

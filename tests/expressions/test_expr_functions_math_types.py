"""Math and type built-ins."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flowscript.expressions import compile_expression


def ev(source: str, scope: dict[str, Any] | None = None) -> Any:
    return compile_expression(source).evaluate(scope or {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3, 1, 2)", 1),
        ("min([3, 1, 2])", 1),
        ("min([3, 'x', null, '0'])", 0),  # numeric strings count, other values are ignored
        ("min([])", None),
        ("max(3, 1, 2)", 3),
        ("max([1.5, 2])", 2),
        ("max()", None),
        ("sum([4, 1, 3])", 8),
        ("sum([0.1, 0.2])", 0.30000000000000004),  # added left to right, as in JavaScript
        ("sum([1, 'x', null, 2])", 3),
        ("sum([])", 0),
        ("avg([4, 1, 3])", 8 / 3),
        ("avg([2, 4])", 3),
        ("avg([])", None),
        ("round(avg([4, 1, 3]), 2)", 2.67),
        ("round(2.71828, 2)", 2.72),
        ("round(2.5)", 3),
        ("round(-2.5)", -2),  # halves go toward +Infinity, as Math.round
        ("round(-2.6)", -3),
        ("round(1.005, 2)", 1.01),  # decimal rounding of the written value
        ("round(1234.5, -2)", 1200),
        ("round(7)", 7),
        ("floor(2.7)", 2),
        ("floor(-2.1)", -3),
        ("ceil(2.1)", 3),
        ("ceil(-2.9)", -2),
        ("trunc(-2.7)", -2),
        ("trunc(2.7)", 2),
        ("abs(-3)", 3),
        ("abs(2.5)", 2.5),
        ("pow(2, 10)", 1024),
        ("pow(2, -1)", 0.5),
        ("sqrt(16)", 4),
        ("sqrt(2)", math.sqrt(2)),
        ("clamp(15, 0, 10)", 10),
        ("clamp(-5, 0, 10)", 0),
        ("clamp(5, 0, 10)", 5),
        ("clamp(5, null, 3)", 3),
        ("mod(-7, 3)", -1),
        ("mod(7, 3)", 1),
        ("sign(-5)", -1),
        ("sign(0)", 0),
        ("sign(2.5)", 1),
        ("percent(1, 4)", 25),
        ("percent(1, 3)", 33.33),
        ("percent(1, 3, 0)", 33),
        ("percent(1, 0)", None),
        ("floor('2.5')", 2),
    ],
)
def test_math_functions(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    if isinstance(expected, int) and not isinstance(expected, bool):
        assert float(result).is_integer()


def test_integral_results_print_without_decimals() -> None:
    assert compile_expression("'' + floor(2.7) + round(2.5) + trunc(-2.7)").evaluate({}) == "23-2"


@pytest.mark.parametrize("fn", ["floor", "ceil", "trunc", "abs", "sqrt", "round", "sign"])
def test_math_on_null_is_null_and_on_nan_is_nan(fn: str) -> None:
    assert ev(f"{fn}(null)") is None
    assert math.isnan(ev(f"{fn}(0 / 0)"))


def test_math_edge_values() -> None:
    assert math.isnan(ev("sqrt(-1)"))
    assert ev("floor(1e300)") == 1e300
    assert ev("round(1/0)") == math.inf
    assert math.isnan(ev("max(1, 0 / 0)"))
    assert ev("pow(null, 2)") is None
    assert ev("mod(5, null)") is None
    assert math.isnan(ev("mod(5, 0)"))


def test_random() -> None:
    values = [ev("random()") for _ in range(200)]
    assert all(0 <= v < 1 for v in values)
    assert len(set(values)) > 100
    ints = {ev("random_int(1, 3)") for _ in range(300)}
    assert ints == {1, 2, 3}
    assert ev("random_int(5, 5)") == 5
    assert ev("random_int(3, 1)") in (1, 2, 3)
    assert ev("random_int(null, 3)") is None
    assert ev("random_int(1.2, 1.8)") is None  # no integer in between


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("null", "null"), ("undefined", "null"), ("[]", "array"), ("{}", "object"), ("'s'", "string"),
        ("1", "number"), ("1.5", "number"), ("0 / 0", "number"), ("true", "boolean"), ("x => x", "function"),
    ],
)  # fmt: skip
def test_typeof(value: str, expected: str) -> None:
    assert ev(f"typeof({value})") == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("is_null(null)", True), ("is_null(0)", False), ("is_null(missing)", True),
        ("is_array([])", True), ("is_array({})", False), ("is_array('ab')", False),
        ("is_object({})", True), ("is_object([])", False), ("is_object(null)", False),
        ("is_string('s')", True), ("is_string(1)", False),
        ("is_number(1.5)", True), ("is_number('1')", False), ("is_number(true)", False),
        ("is_number(0 / 0)", True),
        ("is_boolean(false)", True), ("is_boolean(0)", False),
        ("is_empty('')", True), ("is_empty([])", True), ("is_empty({})", True), ("is_empty(null)", True),
        ("is_empty(0)", False), ("is_empty(' ')", False), ("is_empty([null])", False),
        ("is_empty(false)", False),
        ("to_string(42)", "42"), ("to_string(2.0)", "2"), ("to_string(null)", ""),
        ("to_string(true)", "true"),
        ("to_string([1, 'a'])", '[1,"a"]'), ("to_string({a: 1})", '{"a":1}'),
        ("to_number('42')", 42), ("to_number(' 4.5 ')", 4.5), ("to_number('x')", 0), ("to_number('')", 0),
        ("to_number(null)", 0), ("to_number(true)", 1), ("to_number('0x10')", 16), ("to_number('1e3')", 1000),
        ("to_number(0 / 0)", 0), ("to_number('12px')", 0),
        ("to_boolean('false')", True), ("to_boolean('')", False), ("to_boolean(0)", False),
        ("to_boolean([])", True),
        ("to_array(null)", []), ("to_array(1)", [1]), ("to_array([1])", [1]), ("to_array('ab')", ["ab"]),
        ("coalesce(null, null, 'z')", "z"), ("coalesce(null, 0, 1)", 0), ("coalesce()", None),
        ("default(null, 'd')", "d"), ("default(0, 'd')", 0), ("default('', 'd')", ""),
        ("default(0 / 0, 'd')", "d"),
        ("if_else(1 > 2, 'yes', 'no')", "no"), ("if_else('x', 'yes', 'no')", "yes"),
        ("if_else(0, 'yes')", None),
        ("is_finite(1)", True), ("is_finite(1 / 0)", False), ("is_finite('1')", False),
        ("is_finite(0 / 0)", False),
        ("is_integer(3)", True), ("is_integer(3.0)", True), ("is_integer(3.5)", False),
        ("is_integer('3')", False),
        ("is_nan(0 / 0)", True), ("is_nan('abc')", False), ("is_nan(1)", False),
        ("is_truthy('0')", True), ("is_truthy(0)", False), ("is_falsy(null)", True), ("is_falsy([])", False),
    ],
)  # fmt: skip
def test_type_functions(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected) or {type(result), type(expected)} <= {int, float}

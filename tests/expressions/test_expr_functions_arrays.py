"""Array built-ins: new lists every time, null read as [], strings where JavaScript allows."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import Limits, compile_expression


def ev(source: str, scope: dict[str, Any] | None = None, limits: Limits | None = None) -> Any:
    return compile_expression(source).evaluate(scope or {}, limits)


NUMS = {"nums": [4, 1, 3], "tags": ["z", "x", "y", "x"]}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("length(nums)", 3),
        ("length('abc')", 3),
        ("length(null)", 0),
        ("first(nums)", 4),
        ("first([])", None),
        ("first('abc')", "a"),
        ("last(nums)", 3),
        ("last([])", None),
        ("slice(nums, 1, 3)", [1, 3]),
        ("slice(nums, -2)", [1, 3]),
        ("slice(nums, 1, -1)", [1]),
        ("slice(nums)", [4, 1, 3]),
        ("slice('flowscript', 0, 4)", "flow"),
        ("flatten([[1, 2], [3], 4, [[5]]])", [1, 2, 3, 4, [5]]),  # one level
        ("unique(tags)", ["z", "x", "y"]),
        ("unique([1, 1.0, '1', true, {a: 1}, {a: 1}, [1], [1], null, null])",
         [1, "1", True, {"a": 1}, [1], None]),
        ("reverse(nums)", [3, 1, 4]),
        ("reverse('abc')", "cba"),
        ("contains(nums, 3)", True),
        ("contains(nums, 5)", False),
        ("contains([{a: 1}], {a: 1})", True),  # deep equality
        ("contains('abc', 'bc')", True),
        ("index_of(nums, 3)", 2),
        ("index_of(nums, 9)", -1),
        ("index_of('abcabc', 'c')", 2),
        ("index_of([[1], [2]], [2])", 1),
        ("sort(tags)", ["x", "x", "y", "z"]),
        ("sort([10, 9, 1, 100])", [1, 9, 10, 100]),  # numbers numerically
        ("sort([3, 1, 2], 'desc')", [3, 2, 1]),
        ("sort([3, 'b', null, 'a', true, 2, [1], {a: 1}])", [2, 3, "a", "b", True, [1], {"a": 1}, None]),
        ("sort([{n: 2}, {n: 1}, {n: null}], 'n')", [{"n": 1}, {"n": 2}, {"n": None}]),
        ("sort([{n: 2}, {n: 1}, {}], 'n', 'desc')", [{"n": 2}, {"n": 1}, {}]),  # nulls stay last
        ("sort([{n: 'b'}, {n: 'a'}], x => x.n)", [{"n": "a"}, {"n": "b"}]),
        ("sort([{desc: 2}, {desc: 1}], 'desc', 'asc')", [{"desc": 1}, {"desc": 2}]),
        ("compact([0, null, '', false, 1])", [0, "", False, 1]),
        ("at(nums, -1)", 3),
        ("at(nums, 0)", 4),
        ("at(nums, 5)", None),
        ("at(nums, -4)", None),
        ("at('abc', -1)", "c"),
        ("take(nums, 2)", [4, 1]),
        ("take(nums, 10)", [4, 1, 3]),
        ("take(nums, -1)", []),
        ("take(nums)", [4]),
        ("skip(nums, 2)", [3]),
        ("skip(nums, 0)", [4, 1, 3]),
        ("range(5)", [0, 1, 2, 3, 4]),
        ("range(2, 5)", [2, 3, 4]),
        ("range(0, 10, 3)", [0, 3, 6, 9]),
        ("range(5, 0, -2)", [5, 3, 1]),
        ("range(5, 0)", []),
        ("range(0, 1, 0.25)", [0, 0.25, 0.5, 0.75]),
        ("range(0, 3.0)", [0, 1, 2]),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("concat([1], 2, null, [[3]])", [1, 2, [3]]),
        ("concat('a', 'b', 'c')", "abc"),
        ("concat('a', [1])", ["a", 1]),
        ("concat()", []),
    ],
)
def test_array_functions(source: str, expected: Any) -> None:
    assert ev(source, NUMS) == expected


def test_sort_is_stable() -> None:
    items = [{"k": 1, "i": 0}, {"k": 0, "i": 1}, {"k": 1, "i": 2}, {"k": 0, "i": 3}]
    assert [v["i"] for v in ev("sort(items, 'k')", {"items": items})] == [1, 3, 0, 2]
    assert [v["i"] for v in ev("sort(items, 'k', 'desc')", {"items": items})] == [0, 2, 1, 3]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("first(null)", None), ("last(null)", None), ("slice(null, 1)", []), ("flatten(null)", []),
        ("unique(null)", []), ("reverse(null)", []), ("contains(null, 1)", False), ("index_of(null, 1)", -1),
        ("sort(null)", []), ("compact(null)", []), ("at(null, 0)", None), ("take(null, 2)", []),
        ("skip(null, 2)", []), ("range(null)", []), ("concat(null, null)", []),
    ],
)  # fmt: skip
def test_array_functions_read_null_as_empty(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize("source", ["flatten(5)", "unique('ab')", "sort({a: 1})", "compact(true)"])
def test_a_wrong_type_is_a_type_error(source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(source)
    assert info.value.code == "EXPR_TYPE_ERROR"
    assert "expects an array" in info.value.message


def test_array_functions_never_mutate_their_arguments() -> None:
    scope = {"xs": [3, 1, 2], "nested": [[1], [2]]}
    for source in ("sort(xs)", "reverse(xs)", "slice(xs, 0)", "take(xs, 1)", "concat(xs, [4])",
                   "flatten(nested)", "unique(xs)", "compact(xs)", "sort(xs, 'desc')"):
        result = ev(source, scope)
        assert scope == {"xs": [3, 1, 2], "nested": [[1], [2]]}, source
        assert result is not scope["xs"]


def test_size_limits_are_checked_before_building() -> None:
    limits = Limits(max_array_length=10)
    for source in ("range(11)", "range(0, 1e15)", "concat(range(6), range(6))",
                   "flatten([range(6), range(6)])", "split('aaaaaaaaaaaa', '')"):
        with pytest.raises(ExpressionError) as info:
            ev(source, limits=limits)
        assert info.value.code == "EXPR_EVAL_ERROR", source
        assert "limit" in info.value.message
    assert ev("range(10)", limits=limits) == list(range(10))
    with pytest.raises(ExpressionError) as info:
        ev("range(0, 10, 0)")
    assert "step" in info.value.message

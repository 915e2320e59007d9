"""Higher-order built-ins and their arrow-function callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression

USERS = [
    {"name": "ada", "score": 9, "team": "a"},
    {"name": "bob", "score": 4, "team": "b"},
    {"name": "cy", "score": 7, "team": "a"},
]


def ev(source: str, scope: dict[str, Any] | None = None) -> Any:
    return compile_expression(source).evaluate({"users": USERS, "nums": [1, 2, 3, 4], **(scope or {})})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("map(users, u => u.name)", ["ada", "bob", "cy"]),
        ("map(nums, (x, i) => x * i)", [0, 2, 6, 12]),
        ("map([], x => x)", []),
        ("map(null, x => x)", []),
        ("filter(users, u => u.score > 5)", [USERS[0], USERS[2]]),
        ("filter(nums, (x, i) => i % 2 == 0)", [1, 3]),
        ("filter(nums, x => x > 10)", []),
        ("find(users, u => u.team == 'b')", USERS[1]),
        ("find(users, u => u.team == 'z')", None),
        ("find(nums, (x, i) => i == 2)", 3),
        ("some(nums, x => x > 3)", True),
        ("some(nums, x => x > 4)", False),
        ("some([], x => true)", False),
        ("every(nums, x => x > 0)", True),
        ("every(nums, x => x > 1)", False),
        ("every([], x => false)", True),
        ("count(nums)", 4),
        ("count(nums, x => x % 2 == 0)", 2),
        ("count(null)", 0),
        ("reduce(nums, (acc, x) => acc + x, 0)", 10),
        ("reduce(nums, (acc, x) => acc + x)", 10),  # no initial: the first item
        ("reduce(nums, (acc, x, i) => acc + i, 0)", 6),
        ("reduce([], (acc, x) => acc + x)", None),
        ("reduce([], (acc, x) => acc + x, 'init')", "init"),
        ("reduce(users, (acc, u) => merge(acc, {[u.name]: u.score}), {})", {"ada": 9, "bob": 4, "cy": 7}),
        ("map(sort_by(users, u => u.score), u => u.name)", ["bob", "cy", "ada"]),
        ("map(sort_by(users, 'score', 'desc'), u => u.name)", ["ada", "cy", "bob"]),
        ("map(sort_by(users, 'name'), u => u.score)", [9, 4, 7]),
        ("group_by(users, 'team')", {"a": [USERS[0], USERS[2]], "b": [USERS[1]]}),
        ("group_by(nums, x => x % 2 == 0 ? 'even' : 'odd')", {"odd": [1, 3], "even": [2, 4]}),
        ("group_by(nums, x => x > 2)", {"false": [1, 2], "true": [3, 4]}),
        ("group_by([{k: null}, {}], 'k')", {"null": [{"k": None}, {}]}),
        ("sum_by(users, 'score')", 20),
        ("sum_by(users, u => u.score * 2)", 40),
        ("sum_by([{p: 1}, {p: 'x'}, {p: 2.5}], 'p')", 3.5),
        ("map(users, u => {name: upper(u.name), rank: u.score > 5 ? 'high' : 'low'})",
         [{"name": "ADA", "rank": "high"}, {"name": "BOB", "rank": "low"}, {"name": "CY", "rank": "high"}]),
        ("map(nums, x => filter(nums, y => y < x))", [[], [1], [1, 2], [1, 2, 3]]),
    ],
)
def test_higher_order_functions(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize("fn", ["map", "filter", "find", "some", "every", "count", "reduce"])
def test_a_non_function_is_a_type_error(fn: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(f"{fn}(nums, 'name')")
    assert info.value.code == "EXPR_TYPE_ERROR"
    assert "expects a function" in info.value.message


@pytest.mark.parametrize("fn", ["sort_by", "group_by", "sum_by"])
def test_key_functions_need_a_function_or_a_key(fn: str) -> None:
    for arg in ("null", "true", "{}"):
        with pytest.raises(ExpressionError) as info:
            ev(f"{fn}(users, {arg})")
        assert info.value.code == "EXPR_TYPE_ERROR"


def test_callbacks_do_not_leak_or_mutate() -> None:
    users = [dict(u) for u in USERS]
    result = ev("map(users, u => merge(u, {score: 0}))", {"users": users})
    assert users == USERS
    assert all(r["score"] == 0 for r in result)


def test_callback_errors_point_into_the_callback() -> None:
    source = "map(nums, x => x.constructor)"
    with pytest.raises(ExpressionError) as info:
        compile_expression(source)
    assert info.value.position == source.index("constructor")
    source = "map(nums, x => nums[k])"
    with pytest.raises(ExpressionError) as info:
        ev(source, {"k": "__proto__"})
    assert info.value.position == source.index("[")

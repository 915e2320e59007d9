"""Resource limits: big values fail fast, before they are built; busy work stops; nothing hangs."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import Limits, compile_expression, compile_template


def fails_fast(source: str, scope: dict[str, Any] | None = None, limits: Limits | None = None,
               seconds: float = 1.0, max_bytes: int | None = 200_000_000) -> ExpressionError:
    """Evaluates, expecting EXPR_EVAL_ERROR within `seconds`; then again under tracemalloc
    (which slows everything down, so it is not timed) to check the peak allocation."""
    compiled = compile_expression(source)
    start = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        compiled.evaluate(scope or {}, limits)
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"{source} took {elapsed:.2f} s"
    assert info.value.code == "EXPR_EVAL_ERROR"
    if max_bytes is None:
        return info.value
    tracemalloc.start()
    try:
        with pytest.raises(ExpressionError):
            compiled.evaluate(scope or {}, limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < max_bytes, f"{source} allocated {peak:,} bytes"
    return info.value


@pytest.mark.parametrize(
    "source",
    [
        "repeat('x', 10 ** 9)",
        "repeat('abc', 1e300)",
        "repeat('x', 1 / 0)",
        "pad_start('x', 10 ** 9)",
        "pad_end('x', 1e18, 'ab')",
        "range(0, 1e9)",
        "range(1e9)",
        "range(0, 1, 1e-9)",
        "s + s",
        "concat(big, big)",
        "flatten([big, big])",
        "join([s, s], '')",
        "replace(s, 'a', 'aa')",
        "split(s, '')",
        "json_encode([s, s])",
        "pretty([s, s])",
    ],
)
def test_huge_values_fail_before_they_are_built(source: str) -> None:
    scope = {"s": "a" * 6_000_000, "big": list(range(600_000))}
    error = fails_fast(source, scope, max_bytes=1_000_000)  # refused before anything big is built
    assert "limit" in error.message


def test_limits_are_configurable() -> None:
    small = Limits(max_string_length=10, max_array_length=5)
    assert "limit of 10" in fails_fast("repeat('x', 11)", limits=small).message
    assert "limit of 5" in fails_fast("range(6)", limits=small).message
    assert compile_expression("repeat('x', 10)").evaluate({}, small) == "x" * 10


@pytest.mark.parametrize(
    ("source", "check_memory"),
    [
        ("map(range(0, 1000000), x => map(range(0, 1000000), y => y))", False),
        ("count(range(0, 1000000), x => some(range(0, 1000000), y => y < 0))", False),
        ("reduce(range(0, 1000000), (acc, x) => acc + reduce(range(0, 1000000), (a, y) => a + y, 0))", False),
        # these also measure memory under tracemalloc, which is slow
        pytest.param("map(range(0, 1000000), x => range(0, 1000000))", True, marks=pytest.mark.slow),
        pytest.param("map(range(0, 1000000), x => repeat('x', 9000000))", True, marks=pytest.mark.slow),
        pytest.param("map(range(0, 1000000), x => repeat('x', 900000))", True, marks=pytest.mark.slow),
        pytest.param("reduce(range(0, 1000000), (acc, x) => acc + 'xxxxxxxxxxxxxxxxxxxxxxxx', '')",
                     True, marks=pytest.mark.slow),
    ],
)
def test_step_budget_and_allocation_totals_stop_busy_work(source: str, check_memory: bool) -> None:
    error = fails_fast(source, seconds=3.0, max_bytes=250_000_000 if check_memory else None)
    assert "budget" in error.message or "evaluation built more than" in error.message


def test_strings_can_still_be_grown_in_a_loop_up_to_a_point() -> None:
    source = "length(reduce(range(0, n), (acc, x) => acc + 'line of forty characters, more or less..', ''))"
    assert compile_expression(source).evaluate({"n": 2000}) == 80_000
    source = "length(join(map(range(0, 100000), x => 'thirty-nine characters, more or less...'), ''))"
    assert compile_expression(source).evaluate({}) == 3_900_000


def test_step_budget_is_per_evaluation_and_configurable() -> None:
    compiled = compile_expression("count(range(0, 1000), x => x > 5)")
    for _ in range(5):
        assert compiled.evaluate({}) == 994
    with pytest.raises(ExpressionError) as info:
        compiled.evaluate({}, Limits(max_steps=500))
    assert "budget of 500 steps" in info.value.message


def test_time_limit() -> None:
    limits = Limits(max_seconds=0.2, max_steps=10**12)
    start = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        compile_expression("map(range(0, 1000000), x => map(range(0, 1000), y => y))").evaluate({}, limits)
    assert time.monotonic() - start < 2
    assert "time limit" in info.value.message


def test_templates_are_limited_too() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_template("a {{ repeat('x', 10 ** 9) }} b").render({})
    assert info.value.position == 5


def test_ints_never_grow_without_bound() -> None:
    value = compile_expression("2 ** 5000 * 3 ** 4000 + 7 ** 7 ** 7").evaluate({})
    assert value == float("inf")
    huge = {"n": 10**5000}
    assert compile_expression("n * n").evaluate(huge) == float("inf")
    assert compile_expression("'' + n").evaluate(huge) == "Infinity"

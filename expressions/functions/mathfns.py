"""Math built-ins. Numbers follow JavaScript: NaN and ±Infinity instead of exceptions.

null gives null (there is no number to work on); a numeric string counts as its number.
Integral results are ints when they are safely representable, so they print as `3`.
"""

from __future__ import annotations

import math
import random as _random
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flowscript.expressions.functions.common import integer, number_or_none
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.operators import arith, divide, modulo, power
from flowscript.expressions.values import NAN, integral, is_number, normalize_int, to_number

_rng = _random.SystemRandom()


def _num(value: Any) -> int | float | None:
    """A math argument: null -> None, anything else through ToNumber (may be NaN)."""
    if value is None:
        return None
    if is_number(value):
        return value
    return to_number(value)


def _numbers(values: tuple[Any, ...]) -> list[int | float]:
    """The numbers of `f(a, b, c)` or of `f([a, b, c])`; other items are ignored."""
    items = values[0] if len(values) == 1 and isinstance(values[0], (list, tuple)) else values
    out = []
    for v in items:
        n = number_or_none(v)
        if n is not None:
            out.append(n)
    return out


def _total(numbers: list[int | float]) -> int | float:
    total: int | float = 0
    for n in numbers:
        try:
            total += n
        except OverflowError:
            total = float(normalize_int(int(total))) + float(normalize_int(int(n)))
    return normalize_int(total) if isinstance(total, int) else total


@builtin("math")
def min_(*values: Any) -> int | float | None:
    """min(a, b, ... | arr)
    The smallest number (of the arguments, or of one array); null when there is none."""
    numbers = _numbers(values)
    if not numbers:
        return None
    return NAN if any(n != n for n in numbers) else min(numbers)


@builtin("math")
def max_(*values: Any) -> int | float | None:
    """max(a, b, ... | arr)
    The largest number (of the arguments, or of one array); null when there is none."""
    numbers = _numbers(values)
    if not numbers:
        return None
    return NAN if any(n != n for n in numbers) else max(numbers)


@builtin("math")
def sum_(*values: Any) -> int | float:
    """sum(arr)
    The total of the numbers of an array (non-numbers are ignored); 0 when empty."""
    return _total(_numbers(values))


@builtin("math")
def avg(*values: Any) -> int | float | None:
    """avg(arr)
    The mean of the numbers of an array; null when there are none."""
    numbers = _numbers(values)
    if not numbers:
        return None
    return divide(_total(numbers), len(numbers))


def round_half_up(x: int | float, decimals: int = 0) -> int | float:
    """JavaScript's Math.round on x * 10**decimals, done in decimal on x's shortest spelling so
    that round(1.005, 2) is 1.01 (not 1.00) and round(-2.5) is -2 (halves go toward +Infinity)."""
    if isinstance(x, int) and decimals >= 0:
        return x
    if x != x or math.isinf(x):
        return x
    decimals = max(-308, min(100, decimals))
    try:
        exact = Decimal(repr(float(x)) if isinstance(x, float) else str(x))
        rounded = exact.quantize(Decimal(1).scaleb(-decimals),
                                 rounding=ROUND_HALF_UP if exact >= 0 else ROUND_HALF_DOWN)
    except (InvalidOperation, ValueError, OverflowError):
        return x
    if decimals <= 0:
        return normalize_int(int(rounded))
    result = float(rounded)
    return integral(result) if result.is_integer() else result


@builtin("math")
def round_(n: Any, decimals: Any = 0) -> int | float | None:
    """round(n, decimals=0)
    n rounded to `decimals` places; halves round up as in JavaScript (2.5 -> 3, -2.5 -> -2)."""
    x = _num(n)
    if x is None:
        return None
    return round_half_up(x, integer(decimals))


def _integral_op(n: Any, op: Any) -> int | float | None:
    x = _num(n)
    if x is None:
        return None
    if isinstance(x, int) or x != x or math.isinf(x):
        return x
    return integral(float(op(x)))


@builtin("math")
def floor(n: Any) -> int | float | None:
    """floor(n)
    The largest integer <= n."""
    return _integral_op(n, math.floor)


@builtin("math")
def ceil(n: Any) -> int | float | None:
    """ceil(n)
    The smallest integer >= n."""
    return _integral_op(n, math.ceil)


@builtin("math")
def trunc(n: Any) -> int | float | None:
    """trunc(n)
    n without its fractional part (toward zero: trunc(-2.7) is -2)."""
    return _integral_op(n, math.trunc)


@builtin("math")
def abs_(n: Any) -> int | float | None:
    """abs(n)
    The absolute value."""
    x = _num(n)
    return None if x is None else abs(x)


@builtin("math")
def pow_(base: Any, exponent: Any) -> int | float | None:
    """pow(base, exponent)
    base ** exponent."""
    x, y = _num(base), _num(exponent)
    if x is None or y is None:
        return None
    return power(x, y)


@builtin("math")
def sqrt(n: Any) -> int | float | None:
    """sqrt(n)
    The square root (NaN for a negative number)."""
    x = _num(n)
    if x is None:
        return None
    if x != x or x < 0:
        return NAN
    if math.isinf(x):
        return x
    if isinstance(x, int):
        r = math.isqrt(x)
        if r * r == x:
            return r
    return math.sqrt(x)


@builtin("math")
def random() -> float:
    """random()
    A random float in [0, 1)."""
    return _rng.random()


@builtin("math")
def random_int(low: Any, high: Any) -> int | None:
    """random_int(min, max)
    A random integer between min and max, both included."""
    a, b = _num(low), _num(high)
    if a is None or b is None or a != a or b != b or math.isinf(a) or math.isinf(b):
        return None
    lo, hi = math.ceil(min(a, b)), math.floor(max(a, b))
    if lo > hi:
        return None
    return _rng.randint(lo, hi)


@builtin("math")
def clamp(n: Any, low: Any, high: Any) -> int | float | None:
    """clamp(n, min, max)
    n limited to [min, max] (a null bound is no bound)."""
    x = _num(n)
    if x is None or x != x:
        return x
    lo, hi = _num(low), _num(high)
    if lo is not None and lo == lo and x < lo:
        x = lo
    if hi is not None and hi == hi and x > hi:
        x = hi
    return x


@builtin("math")
def mod(a: Any, b: Any) -> int | float | None:
    """mod(a, b)
    The remainder of a / b, with the sign of a (as JavaScript's %)."""
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return None
    return modulo(x, y)


@builtin("math")
def sign(n: Any) -> int | float | None:
    """sign(n)
    -1, 0 or 1 (NaN for NaN)."""
    x = _num(n)
    if x is None or x != x:
        return x
    return (x > 0) - (x < 0)


@builtin("math")
def percent(value: Any, total: Any, decimals: Any = 2) -> int | float | None:
    """percent(value, total, decimals=2)
    value as a percentage of total, rounded: percent(1, 4) is 25; null when total is 0."""
    x, t = _num(value), _num(total)
    if x is None or t is None or t == 0 or t != t:
        return None
    return round_half_up(divide(arith("*", x, 100), t), integer(decimals, 2))

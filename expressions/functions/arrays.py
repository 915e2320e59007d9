"""Array built-ins. They never mutate their arguments: every result is a new list.

null reads as an empty array; strings are accepted where JavaScript's string methods of
the same name exist (slice, at, reverse, first/last, take/skip, contains, index_of).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowscript.expressions.functions.common import (
    array,
    canonical,
    deep_equal,
    eval_error,
    integer,
    sort_key,
    text,
    type_error,
)
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.functions.strings import length_of
from flowscript.expressions.lambdas import Lambda
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.values import to_number, type_name


def _sequence(fn: str, value: Any) -> list[Any] | str:
    """A list or a string argument (null -> [])."""
    if isinstance(value, str):
        return value
    return array(fn, value)


def _relative(position: Any, size: int, default: int) -> int:
    """A JavaScript slice position: negative counts from the end, clamped to [0, size]."""
    if position is None:
        return default
    p = integer(position)
    return max(size + p, 0) if p < 0 else min(p, size)


@builtin("array")
def length(value: Any) -> int:
    """length(value)
    The number of items of an array or characters of a string (keys of an object); 0 for null."""
    return length_of(value)


@builtin("array")
def first(value: Any) -> Any:
    """first(arr)
    The first item (first character of a string), or null when empty."""
    if isinstance(value, (str, list, tuple)) and value:
        return value[0]
    return None


@builtin("array")
def last(value: Any) -> Any:
    """last(arr)
    The last item (last character of a string), or null when empty."""
    if isinstance(value, (str, list, tuple)) and value:
        return value[-1]
    return None


@builtin("array")
def slice_(value: Any, start: Any = None, end: Any = None) -> Any:
    """slice(arr, start=0, end?)
    Items from start up to (not including) end; negative positions count from the end."""
    seq = _sequence("slice", value)
    n = len(seq)
    return seq[_relative(start, n, 0):_relative(end, n, n)]


@builtin("array", context=True)
def flatten(ctx: EvalContext, arr: Any) -> list[Any]:
    """flatten(arr)
    Nested arrays spread one level: [[1, 2], [3]] -> [1, 2, 3]."""
    items = array("flatten", arr)
    ctx.check_array(sum(len(v) if isinstance(v, (list, tuple)) else 1 for v in items), "flatten() result")
    out: list[Any] = []
    for v in items:
        if isinstance(v, (list, tuple)):
            out.extend(v)
        else:
            out.append(v)
    return out


@builtin("array")
def unique(arr: Any) -> list[Any]:
    """unique(arr)
    The items without repeats (deep equality), first occurrences kept in order."""
    seen: set[Any] = set()
    out: list[Any] = []
    for v in array("unique", arr):
        key = canonical(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


@builtin("array")
def reverse(value: Any) -> Any:
    """reverse(arr)
    The items in reverse order (a string reversed)."""
    seq = _sequence("reverse", value)
    return seq[::-1]


@builtin("array")
def contains(value: Any, item: Any) -> bool:
    """contains(arr, item)
    Whether an item equals `item` (deep equality); for a string, whether it contains it."""
    if isinstance(value, str):
        return item is not None and text(item) in value
    if isinstance(value, Mapping):
        return any(deep_equal(v, item) for v in value.values())
    return any(deep_equal(v, item) for v in array("contains", value))


@builtin("array")
def index_of(value: Any, item: Any) -> int:
    """index_of(arr, item)
    The position of the first item equal to `item` (of a substring in a string), or -1."""
    if isinstance(value, str):
        return -1 if item is None else value.find(text(item))
    for i, v in enumerate(array("index_of", value)):
        if deep_equal(v, item):
            return i
    return -1


def order_arg(order: Any) -> bool:
    """True for descending; "asc"/"desc" (any case), null means ascending."""
    if order is None:
        return False
    word = text(order).lower()
    if word in ("asc", "ascending"):
        return False
    if word in ("desc", "descending"):
        return True
    raise type_error(f'sort order must be "asc" or "desc", got {text(order)!r}')


def sorted_by(items: list[Any], key: Any, descending: bool) -> list[Any]:
    """Stable sort by a key function; null keys always go last, whatever the order."""
    keyed = [(key(v, i), v) for i, v in enumerate(items)]
    present = [(k, v) for k, v in keyed if k is not None]
    missing = [v for k, v in keyed if k is None]
    present.sort(key=lambda kv: sort_key(kv[0]), reverse=descending)
    return [v for _, v in present] + missing


def key_function(fn: str, key: Any) -> Any:
    """An arrow function, a key path string ("a.b"), or null (the item itself) as key(item, index)."""
    from flowscript.expressions.functions.objects import get_path

    if key is None:
        return lambda v, i: v
    if isinstance(key, Lambda):
        return key
    if isinstance(key, (str, int, float)) and not isinstance(key, bool):
        return lambda v, i: get_path(v, key)
    raise type_error(f"{fn}() expects a function (x => ...) or a key name, got {type_name(key)}")


@builtin("array", context=True, functions=(1,))
def sort(ctx: EvalContext, arr: Any, key: Any = None, order: Any = None) -> list[Any]:
    """sort(arr, key?, order="asc")
    A sorted copy: numbers numerically, strings by code point, stable. Mixed types order as
    numbers, strings, booleans, arrays, objects; nulls last. `key` is a key name or a function;
    sort(arr, "desc") sorts descending (use sort(arr, "desc", "asc") for a key named desc)."""
    items = array("sort", arr)
    if order is None and isinstance(key, str) and key.lower() in ("asc", "desc", "ascending", "descending"):
        key, order = None, key
    descending = order_arg(order)
    ctx.check_array(len(items), "sort() result")
    return sorted_by(items, key_function("sort", key), descending)


@builtin("array")
def compact(arr: Any) -> list[Any]:
    """compact(arr)
    The items without nulls (0, "" and false are kept)."""
    return [v for v in array("compact", arr) if v is not None]


@builtin("array")
def at(value: Any, i: Any) -> Any:
    """at(arr, i)
    The item at position i; negative positions count from the end (at(arr, -1) is the last)."""
    seq = _sequence("at", value)
    k = integer(i)
    if k < 0:
        k += len(seq)
    return seq[k] if 0 <= k < len(seq) else None


@builtin("array")
def take(value: Any, n: Any = 1) -> Any:
    """take(arr, n=1)
    The first n items (characters of a string)."""
    seq = _sequence("take", value)
    return seq[: max(0, integer(n, 1))]


@builtin("array")
def skip(value: Any, n: Any = 1) -> Any:
    """skip(arr, n=1)
    Everything after the first n items."""
    seq = _sequence("skip", value)
    return seq[max(0, integer(n, 1)):]


@builtin("array", context=True)
def range_(ctx: EvalContext, start: Any, end: Any = None, step: Any = 1) -> list[int | float]:
    """range(start, end, step=1)
    Numbers from start up to (not including) end; range(n) is 0 .. n-1."""
    if start is None and end is None:
        return []
    if end is None:
        start, end = 0, start
    a, b = to_number(start), to_number(end)
    d = 1 if step is None else to_number(step)
    if a != a or b != b or d != d:
        return []
    if d == 0:
        raise eval_error("range() step cannot be 0")
    if math.isinf(a) or math.isinf(b) or math.isinf(d):
        if math.isinf(d) and not (math.isinf(a) or math.isinf(b)):
            return [a] if (b - a) * d > 0 else []
        raise eval_error("range() bounds must be finite")
    count = max(0, math.ceil((b - a) / d))
    ctx.check_array(count, "range() result")
    if type(a) is int and type(b) is int and type(d) is int:
        return list(range(a, b, d))
    return [a + i * d for i in range(count)]


@builtin("array", context=True)
def concat(ctx: EvalContext, *values: Any) -> Any:
    """concat(a, b, ...)
    Arrays joined into one (a non-array argument is one item, null is skipped); when
    every argument is a string, the strings joined."""
    if values and all(isinstance(v, str) for v in values):
        ctx.check_string(sum(map(len, values)), "concat() result")
        return "".join(values)
    total = sum(len(v) if isinstance(v, (list, tuple)) else 1 for v in values if v is not None)
    ctx.check_array(total, "concat() result")
    out: list[Any] = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


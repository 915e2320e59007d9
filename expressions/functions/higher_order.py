"""Higher-order built-ins: the function argument is an arrow (`x => ...`, `(x, i) => ...`).

Callbacks receive (item, index, array), except reduce's, which receive (acc, item,
index). Each callback call is one step of the evaluation's budget (see limits.py).
sort_by, group_by and sum_by also take a key name ("price" or "a.b") instead of a function.
"""

from __future__ import annotations

from typing import Any

from flowscript.expressions.functions.arrays import key_function, order_arg, sorted_by
from flowscript.expressions.functions.common import array, type_error
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.lambdas import Lambda
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.operators import add
from flowscript.expressions.printing import to_template_string
from flowscript.expressions.values import is_number, normalize_int, truthy, type_name


def callback(fn: str, value: Any) -> Lambda:
    """The function argument of a higher-order built-in, or a type error saying what is expected."""
    if isinstance(value, Lambda):
        return value
    raise type_error(f"{fn}() expects a function such as x => x.name as its second argument, "
                     f"got {type_name(value)}")


@builtin("higher-order", functions=(1,))
def map_(arr: Any, fn: Any) -> list[Any]:
    """map(arr, fn)
    [fn(item, index) for each item]: map(users, u => u.name)."""
    items = array("map", arr)
    f = callback("map", fn)
    return [f(v, i, items) for i, v in enumerate(items)]


@builtin("higher-order", functions=(1,))
def filter_(arr: Any, fn: Any) -> list[Any]:
    """filter(arr, fn)
    The items for which fn(item, index) is truthy."""
    items = array("filter", arr)
    f = callback("filter", fn)
    return [v for i, v in enumerate(items) if truthy(f(v, i, items))]


@builtin("higher-order", functions=(1,))
def find(arr: Any, fn: Any) -> Any:
    """find(arr, fn)
    The first item for which fn(item, index) is truthy, or null."""
    items = array("find", arr)
    f = callback("find", fn)
    for i, v in enumerate(items):
        if truthy(f(v, i, items)):
            return v
    return None


@builtin("higher-order", functions=(1,))
def some(arr: Any, fn: Any) -> bool:
    """some(arr, fn)
    Whether fn(item, index) is truthy for at least one item (false for an empty array)."""
    items = array("some", arr)
    f = callback("some", fn)
    return any(truthy(f(v, i, items)) for i, v in enumerate(items))


@builtin("higher-order", functions=(1,))
def every(arr: Any, fn: Any) -> bool:
    """every(arr, fn)
    Whether fn(item, index) is truthy for every item (true for an empty array)."""
    items = array("every", arr)
    f = callback("every", fn)
    return all(truthy(f(v, i, items)) for i, v in enumerate(items))


@builtin("higher-order", functions=(1,))
def count(arr: Any, fn: Any = None) -> int:
    """count(arr, fn?)
    The number of items, or of the items for which fn(item, index) is truthy."""
    items = array("count", arr)
    if fn is None:
        return len(items)
    f = callback("count", fn)
    return sum(1 for i, v in enumerate(items) if truthy(f(v, i, items)))


@builtin("higher-order", context=True, functions=(1,), max_args=3)
def reduce(ctx: EvalContext, arr: Any, fn: Any, *initial: Any) -> Any:
    """reduce(arr, (acc, x) => ..., initial?)
    Folds the items: acc starts at initial (else the first item) and becomes fn(acc, item, index)."""
    items = array("reduce", arr)
    f = callback("reduce", fn)
    if initial:
        acc, start = initial[0], 0
    elif items:
        acc, start = items[0], 1
    else:
        return None
    for i in range(start, len(items)):
        acc = f(acc, items[i], i)
    return acc


@builtin("higher-order", context=True, functions=(1,))
def sort_by(ctx: EvalContext, arr: Any, key: Any, order: Any = None) -> list[Any]:
    """sort_by(arr, fn | "key", order="asc")
    A stable sorted copy, ordered by fn(item, index) or by the item's key; nulls last."""
    items = array("sort_by", arr)
    if key is None:
        raise type_error("sort_by() expects a function or a key name as its second argument")
    ctx.check_array(len(items), "sort_by() result")
    return sorted_by(items, key_function("sort_by", key), order_arg(order))


@builtin("higher-order", functions=(1,))
def group_by(arr: Any, key: Any) -> dict[str, list[Any]]:
    """group_by(arr, fn | "key")
    An object mapping each key (as a string) to the list of its items, keys in first-seen order."""
    items = array("group_by", arr)
    if key is None:
        raise type_error("group_by() expects a function or a key name as its second argument")
    get = key_function("group_by", key)
    groups: dict[str, list[Any]] = {}
    for i, v in enumerate(items):
        k = get(v, i)
        name = k if isinstance(k, str) else "null" if k is None else to_template_string(k)
        groups.setdefault(name, []).append(v)
    return groups


@builtin("higher-order", context=True, functions=(1,))
def sum_by(ctx: EvalContext, arr: Any, key: Any) -> int | float:
    """sum_by(arr, fn | "key")
    The total of fn(item, index) (or of the item's key) over the items; non-numbers are ignored."""
    items = array("sum_by", arr)
    if key is None:
        raise type_error("sum_by() expects a function or a key name as its second argument")
    get = key_function("sum_by", key)
    total: int | float = 0
    for i, v in enumerate(items):
        n = get(v, i)
        if is_number(n):
            total = add(total, n, ctx)
    return normalize_int(total) if isinstance(total, int) else total

"""Object built-ins. Results are new objects; arguments are never changed.

`get`/`set`/`has`/`delete` take a key path ("a.b.c", "items[0].name" or an array of keys)
whose numeric parts index arrays. They read and write data keys only, so `get(obj,
"constructor")` reads a data key of that name: the escape hatch for data that has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscript.expressions.functions.common import (
    child,
    deep_copy,
    deep_equal,
    path_parts,
)
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.functions.strings import length_of
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.values import list_index, property_key


def get_path(value: Any, path: Any) -> Any:
    """The value at a key path, or None (also used by sort_by/group_by/sum_by with a key name)."""
    if isinstance(path, str) and isinstance(value, Mapping) and path in value:
        return value[path]
    parts = path_parts(path)
    if not parts:
        return None
    for part in parts:
        value = child(value, part)
        if value is None:
            return None
    return value


@builtin("object")
def keys(obj: Any) -> list[str]:
    """keys(obj)
    The keys of an object, in order ([] for anything else)."""
    return list(obj.keys()) if isinstance(obj, Mapping) else []


@builtin("object")
def values(obj: Any) -> list[Any]:
    """values(obj)
    The values of an object, in key order."""
    return list(obj.values()) if isinstance(obj, Mapping) else []


@builtin("object")
def entries(obj: Any) -> list[list[Any]]:
    """entries(obj)
    The [key, value] pairs of an object."""
    return [[k, v] for k, v in obj.items()] if isinstance(obj, Mapping) else []


@builtin("object")
def from_entries(pairs: Any) -> dict[str, Any]:
    """from_entries(pairs)
    An object from [key, value] pairs (or {key, value} objects); later keys win."""
    out: dict[str, Any] = {}
    if not isinstance(pairs, (list, tuple)):
        return out
    for pair in pairs:
        if isinstance(pair, (list, tuple)) and pair:
            out[property_key(pair[0])] = pair[1] if len(pair) > 1 else None
        elif isinstance(pair, Mapping) and "key" in pair:
            out[property_key(pair["key"])] = pair.get("value")
    return out


@builtin("object")
def get(obj: Any, path: Any, default: Any = None) -> Any:
    """get(obj, path, default=null)
    The value at a key path ("a.b.c", "items[0].name"), or default when it is missing or null."""
    value = get_path(obj, path)
    return default if value is None else value


@builtin("object")
def has(obj: Any, path: Any) -> bool:
    """has(obj, key)
    Whether the key (or key path) exists, even when its value is null."""
    if isinstance(obj, Mapping) and isinstance(path, str) and path in obj:
        return True
    parts = path_parts(path)
    if not parts:
        return False
    value = obj
    for part in parts[:-1]:
        value = child(value, part)
    last = parts[-1]
    if isinstance(value, Mapping):
        return (last if isinstance(last, str) else property_key(last)) in value
    if isinstance(value, (list, tuple)):
        i = list_index(last)
        return i is not None and 0 <= i < len(value)
    return False


@builtin("object")
def merge(*objects: Any) -> dict[str, Any]:
    """merge(a, b, ...)
    A shallow merge of the objects; later keys win; non-objects are ignored."""
    out: dict[str, Any] = {}
    for obj in objects:
        if isinstance(obj, Mapping):
            out.update(obj)
    return out


def _key_list(keys_: tuple[Any, ...]) -> list[str]:
    """pick(obj, ["a", "b"]) or pick(obj, "a", "b")."""
    items: list[Any] = []
    for k in keys_:
        if isinstance(k, (list, tuple)):
            items.extend(k)
        elif k is not None:
            items.append(k)
    return [property_key(k) for k in items]


@builtin("object")
def pick(obj: Any, *keys_: Any) -> dict[str, Any]:
    """pick(obj, [keys])
    A new object with only the given keys (those that exist)."""
    if not isinstance(obj, Mapping):
        return {}
    return {k: obj[k] for k in _key_list(keys_) if k in obj}


@builtin("object")
def omit(obj: Any, *keys_: Any) -> dict[str, Any]:
    """omit(obj, [keys])
    A new object without the given keys."""
    if not isinstance(obj, Mapping):
        return {}
    drop = set(_key_list(keys_))
    return {k: v for k, v in obj.items() if k not in drop}


@builtin("object")
def size(value: Any) -> int:
    """size(value)
    The number of keys of an object, items of an array or characters of a string."""
    return length_of(value)


def _set_in(ctx: EvalContext, obj: Any, parts: list[Any], value: Any) -> Any:
    """A copy of obj with value at the path; copies only the containers along the path."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    index = list_index(head) if isinstance(obj, (list, tuple)) else None
    if index is not None and index >= 0:
        items = list(obj)
        if index >= len(items):
            ctx.check_array(index + 1, "set() result")
            items.extend([None] * (index + 1 - len(items)))
        items[index] = _set_in(ctx, items[index], rest, value)
        return items
    key = head if isinstance(head, str) else property_key(head)
    out = dict(obj) if isinstance(obj, Mapping) else {}
    out[key] = _set_in(ctx, out.get(key), rest, value)
    return out


@builtin("object", context=True, name="set")
def set_(ctx: EvalContext, obj: Any, path: Any, value: Any) -> Any:
    """set(obj, path, value)
    A new object with value at the key path ("a.b" creates {a: {b: value}} as needed)."""
    if type(obj) is dict and type(path) is str and path.isidentifier():  # one plain key: map's usual case
        out = dict(obj)
        out[path] = value
        return out
    parts = path_parts(path)
    if not parts:
        return obj
    return _set_in(ctx, obj, parts, value)


@builtin("object")
def delete(obj: Any, path: Any) -> Any:
    """delete(obj, key)
    A new object without the key (or key path)."""
    if not isinstance(obj, (Mapping, list, tuple)):
        return obj
    if isinstance(obj, Mapping) and isinstance(path, str) and path in obj:
        return {k: v for k, v in obj.items() if k != path}
    parts = path_parts(path)
    if not parts:
        return obj
    return _delete_in(obj, parts)


def _delete_in(obj: Any, parts: list[Any]) -> Any:
    head, rest = parts[0], parts[1:]
    if isinstance(obj, Mapping):
        key = head if isinstance(head, str) else property_key(head)
        if key not in obj:
            return obj
        if not rest:
            return {k: v for k, v in obj.items() if k != key}
        return {**obj, key: _delete_in(obj[key], rest)}
    if isinstance(obj, (list, tuple)):
        i = list_index(head)
        if i is None or not 0 <= i < len(obj):
            return obj
        items = list(obj)
        if rest:
            items[i] = _delete_in(items[i], rest)
        else:
            del items[i]
        return items
    return obj


@builtin("object")
def equals(a: Any, b: Any) -> bool:
    """equals(a, b)
    Deep equality: same structure and values (1 equals 1.0; key order does not matter)."""
    return deep_equal(a, b)


@builtin("object")
def clone(value: Any) -> Any:
    """clone(value)
    A deep copy of the value."""
    return deep_copy(value)


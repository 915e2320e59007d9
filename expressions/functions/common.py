"""Argument coercions and value helpers the built-ins share.

They make every built-in total: null reads as an empty string / empty array / default,
and a wrong type is either converted the way JavaScript would or refused with
EXPR_TYPE_ERROR, never a Python exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions.printing import to_json, to_template_string
from flowscript.expressions.values import is_number, list_index, to_number, type_name

BIG = 2**62  # stands for ±Infinity where an integer position is needed


def type_error(message: str) -> ExpressionError:
    return ExpressionError(message, code="EXPR_TYPE_ERROR")


def eval_error(message: str) -> ExpressionError:
    return ExpressionError(message, code="EXPR_EVAL_ERROR")


def text(value: Any) -> str:
    """A string argument: null is "", other values print as in a template (5 -> "5")."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return to_template_string(value)


def integer(value: Any, default: int = 0) -> int:
    """JS ToIntegerOrInfinity for positions and counts: truncated, NaN -> 0, ±Infinity -> ±BIG."""
    if value is None:
        return default
    if type(value) is int:
        return value
    n = to_number(value)
    if n != n:
        return 0
    if isinstance(n, float):
        if math.isinf(n) or abs(n) >= BIG:
            return BIG if n > 0 else -BIG
        return int(n)
    return max(-BIG, min(BIG, n))


def array(fn: str, value: Any) -> list[Any]:
    """An array argument: null is [], a tuple is listed, anything else is a type error."""
    if type(value) is list:
        return value
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    raise type_error(f"{fn}() expects an array, got {type_name(value)}")


def number_or_none(value: Any) -> int | float | None:
    """A number argument for the math functions: numbers as is, numeric strings parsed, else None."""
    if is_number(value):
        return value
    if isinstance(value, str):
        n = to_number(value)
        return None if n != n else n
    return None


def deep_equal(a: Any, b: Any) -> bool:
    """Structural equality: 1 equals 1.0, true is not 1, NaN equals NaN, key order is ignored."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return len(a) == len(b) and all(k in b and deep_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def canonical(value: Any) -> Any:
    """A hashable stand-in such that deep_equal(a, b) iff canonical(a) == canonical(b)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        return ("nan",) if value != value else ("num", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canonical(v) for v in value))
    if isinstance(value, Mapping):
        return ("obj", frozenset((k, canonical(v)) for k, v in value.items()))
    return ("other", id(value))


def sort_key(value: Any) -> tuple[int, Any]:
    """A total order over mixed values: numbers, NaN, strings, booleans, arrays, objects, null."""
    if value is None:
        return (6, 0)
    if isinstance(value, bool):
        return (3, value)
    if is_number(value):
        return (1, 0) if value != value else (0, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, (list, tuple)):
        return (4, to_json(value))
    return (5, to_json(value) if isinstance(value, Mapping) else str(value))


_PATH_PART = re.compile(r"[^.\[\]]+")


def path_parts(path: Any) -> list[Any]:
    """`"a.b[0].c"` -> ["a", "b", "0", "c"]; an array path is used as given."""
    if isinstance(path, (list, tuple)):
        return list(path)
    if path is None:
        return []
    if not isinstance(path, str):
        return [path]
    parts: list[Any] = []
    for part in _PATH_PART.findall(path):
        if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
            part = part[1:-1]
        parts.append(part)
    return parts


def child(value: Any, key: Any) -> Any:
    """One step down a path: an object key or an array index; None when absent."""
    if isinstance(value, Mapping):
        return value.get(key if isinstance(key, str) else to_template_string(key))
    if isinstance(value, (list, tuple)):
        i = list_index(key)
        return value[i] if i is not None and 0 <= i < len(value) else None
    return None


def deep_copy(value: Any) -> Any:
    """A copy sharing nothing mutable with the original."""
    if isinstance(value, (list, tuple)):
        return [deep_copy(v) for v in value]
    if isinstance(value, Mapping):
        return {k: deep_copy(v) for k, v in value.items()}
    return value

"""Type tests and conversions. `typeof` answers null, array, object, string, number,
boolean (and function for an arrow); the Number.isX tests never coerce their argument."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.printing import to_template_string
from flowscript.expressions.values import is_number, to_number, truthy, type_name


@builtin("type", functions=(0,))
def typeof(value: Any) -> str:
    """typeof(value)
    "null", "array", "object", "string", "number", "boolean" or "function"."""
    return type_name(value)


@builtin("type")
def is_null(value: Any) -> bool:
    """is_null(value)
    Whether the value is null (a missing value is null too)."""
    return value is None


@builtin("type")
def is_array(value: Any) -> bool:
    """is_array(value)
    Whether the value is an array."""
    return isinstance(value, (list, tuple))


@builtin("type")
def is_object(value: Any) -> bool:
    """is_object(value)
    Whether the value is an object (not an array, not null)."""
    return isinstance(value, Mapping)


@builtin("type")
def is_string(value: Any) -> bool:
    """is_string(value)
    Whether the value is a string."""
    return isinstance(value, str)


@builtin("type")
def is_number_(value: Any) -> bool:
    """is_number(value)
    Whether the value is a number (NaN included, numeric strings not)."""
    return is_number(value)


@builtin("type")
def is_boolean(value: Any) -> bool:
    """is_boolean(value)
    Whether the value is true or false."""
    return isinstance(value, bool)


@builtin("type")
def is_empty(value: Any) -> bool:
    """is_empty(value)
    True for null, "", [] and {}; false for everything else (0 and false included)."""
    if value is None:
        return True
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) == 0
    return False


@builtin("type")
def to_string(value: Any) -> str:
    """to_string(value)
    The value as a template prints it: null -> "", 3.0 -> "3", arrays and objects as JSON."""
    return to_template_string(value)


@builtin("type")
def to_number_(value: Any) -> int | float:
    """to_number(value)
    The value as a number ("42" -> 42, true -> 1, null -> 0); 0 when it is not a number."""
    n = to_number(value)
    return 0 if n != n else n


@builtin("type")
def to_boolean(value: Any) -> bool:
    """to_boolean(value)
    JavaScript truthiness: false for 0, NaN, "", null and false; true otherwise (also "false")."""
    return truthy(value)


@builtin("type")
def to_array(value: Any) -> list[Any]:
    """to_array(value)
    An array as is, null as [], anything else as a one-item array."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [] if value is None else [value]


@builtin("type")
def coalesce(*values: Any) -> Any:
    """coalesce(a, b, ...)
    The first argument that is not null."""
    for v in values:
        if v is not None:
            return v
    return None


@builtin("type")
def default(value: Any, fallback: Any) -> Any:
    """default(value, fallback)
    value, or fallback when value is null or NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return fallback
    return value


@builtin("type")
def if_else(condition: Any, then: Any, otherwise: Any = None) -> Any:
    """if_else(condition, then, otherwise=null)
    then when condition is truthy, else otherwise (both are evaluated; use c ? a : b to skip one)."""
    return then if truthy(condition) else otherwise


@builtin("type")
def is_finite(value: Any) -> bool:
    """is_finite(value)
    Whether the value is a finite number (Number.isFinite: no coercion)."""
    if isinstance(value, int):
        return not isinstance(value, bool)
    return isinstance(value, float) and math.isfinite(value)


@builtin("type")
def is_integer(value: Any) -> bool:
    """is_integer(value)
    Whether the value is a number with no fractional part (3 and 3.0 are)."""
    if isinstance(value, int):
        return not isinstance(value, bool)
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


@builtin("type")
def is_nan(value: Any) -> bool:
    """is_nan(value)
    Whether the value is the number NaN (Number.isNaN: "abc" is not NaN)."""
    return isinstance(value, float) and value != value


@builtin("type")
def is_truthy(value: Any) -> bool:
    """is_truthy(value)
    JavaScript truthiness of the value."""
    return truthy(value)


@builtin("type")
def is_falsy(value: Any) -> bool:
    """is_falsy(value)
    The opposite of is_truthy."""
    return not truthy(value)

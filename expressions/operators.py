"""The binary and unary operators with JavaScript semantics.

The compiler inlines the int/float fast paths; these functions are the complete rules it
falls back to. Integer arithmetic stays int while exact and safe (`4/2` is 2, `1/4` is
0.25); division by zero, overflow and invalid operations give Infinity/NaN, never a
Python exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowscript.expressions.limits import EvalContext
from flowscript.expressions.values import (
    INF,
    MAX_SAFE_INTEGER,
    NAN,
    normalize_int,
    to_js_string,
    to_number,
)


def _is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float


def to_primitive(value: Any) -> Any:
    """JS ToPrimitive: arrays become their joined string, objects "[object Object]"."""
    if isinstance(value, (list, tuple, Mapping)) or getattr(type(value), "js_source", None):
        return to_js_string(value)
    return value


def add(a: Any, b: Any, ctx: EvalContext) -> Any:
    """`+`: numeric addition, or string concatenation when either side is a string."""
    if _is_num(a) and _is_num(b):
        return arith("+", a, b)
    a = to_primitive(a)
    b = to_primitive(b)
    if isinstance(a, str) or isinstance(b, str):
        sa = a if isinstance(a, str) else to_js_string(a)
        sb = b if isinstance(b, str) else to_js_string(b)
        ctx.check_string(len(sa) + len(sb), "string")
        return sa + sb
    return arith("+", to_number(a), to_number(b))


def arith(op: str, a: Any, b: Any) -> Any:
    """`- * / % **` on any values (operands go through ToNumber)."""
    x = a if _is_num(a) else to_number(a)
    y = b if _is_num(b) else to_number(b)
    if op == "/":
        return divide(x, y)
    if op == "%":
        return modulo(x, y)
    if op == "**":
        return power(x, y)
    if type(x) is int and type(y) is int:
        r = x + y if op == "+" else x - y if op == "-" else x * y
        return signed_zero(r, x, y) if r == 0 and op == "*" else normalize_int(r)
    try:
        return x + y if op == "+" else x - y if op == "-" else x * y
    except OverflowError:  # a huge int met a float
        return _overflow(op, x, y)


def _overflow(op: str, x: int | float, y: int | float) -> float:
    """The result of + - * when an int operand is too big for a float: ±Infinity or NaN."""
    fx = float(normalize_int(int(x))) if isinstance(x, int) else x
    fy = float(normalize_int(int(y))) if isinstance(y, int) else y
    if op == "+":
        return fx + fy
    if op == "-":
        return fx - fy
    return fx * fy


def divide(x: int | float, y: int | float) -> int | float:
    """`/`: exact int when both are ints and it divides; x/0 is ±Infinity or NaN."""
    if y == 0:
        if x == 0 or x != x:
            return NAN
        negative = (x < 0) != (math.copysign(1.0, y) < 0 if isinstance(y, float) else False)
        return -INF if negative else INF
    if type(x) is int and type(y) is int and x % y == 0:
        return signed_zero(normalize_int(x // y), x, y)
    try:
        return x / y
    except OverflowError:
        return INF if (x > 0) == (y > 0) else -INF


def modulo(x: int | float, y: int | float) -> int | float:
    """`%`: the remainder keeps the dividend's sign (JS), x % 0 is NaN."""
    if type(x) is int and type(y) is int:
        if y == 0:
            return NAN
        r = abs(x) % abs(y)
        return (-r or -0.0) if x < 0 else r  # -4 % 2 is -0
    try:
        if y == 0 or math.isinf(x) or x != x or y != y:
            return NAN
        if math.isinf(y):
            return x
        return math.fmod(x, y)
    except (OverflowError, ValueError):
        return NAN


def power(x: int | float, y: int | float) -> int | float:
    """`**`: exact for small int powers, ±Infinity on overflow, NaN where JS gives NaN."""
    if y != y or (x != x and y != 0):
        return NAN
    if y == 0:
        return 1
    if math.isinf(y) and abs(x) == 1:
        return NAN
    if type(x) is int and type(y) is int and y > 0:
        if x in (0, 1):
            return x
        if x == -1:
            return 1 if y % 2 == 0 else -1
        if y * math.log2(abs(x)) < 53:
            return x**y
    try:
        fx = float(x)
        fy = float(y)
    except OverflowError:
        return INF
    if fx == 0 and fy < 0:
        odd = fy.is_integer() and int(fy) % 2 == 1
        return -INF if odd and math.copysign(1.0, fx) < 0 else INF
    if fx < 0 and not fy.is_integer():
        return NAN
    try:
        r = fx**fy
    except OverflowError:
        odd = fy.is_integer() and fy % 2 == 1
        return -INF if fx < 0 and odd else INF
    except ZeroDivisionError:
        return INF
    if isinstance(r, complex):
        return NAN
    if r.is_integer() and abs(r) <= MAX_SAFE_INTEGER and type(x) is int and type(y) is int:
        return int(r)
    return r


def negate(value: Any) -> Any:
    """Unary minus; `-0` is JavaScript's negative zero (a float: a Python int has no sign at 0)."""
    x = value if _is_num(value) else to_number(value)
    return -0.0 if type(x) is int and x == 0 else -x


def signed_zero(r: int | float, x: int, y: int) -> int | float:
    """The int product or quotient `r` of x and y, as JavaScript has it: a zero result of operands
    of opposite signs is -0 (`0 * -1`, `0 / -5`), which only a float can hold."""
    return -0.0 if r == 0 and (x < 0) != (y < 0) else r


def compare(op: str, a: Any, b: Any) -> bool:
    """`< <= > >=`: strings compare as strings, everything else as numbers (NaN is never ordered)."""
    if not (_is_num(a) and _is_num(b)):
        a = to_primitive(a)
        b = to_primitive(b)
        if not (isinstance(a, str) and isinstance(b, str)):
            a = to_number(a)
            b = to_number(b)
    try:
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    except TypeError:  # pragma: no cover - both sides are str or numbers here
        return False


def strict_equals(a: Any, b: Any) -> bool:
    """`===`: same type and value; numbers compare by value (1 === 1.0), containers by identity."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, (str, int, float)) or isinstance(b, (str, int, float)):
        return False
    return a is b


def loose_equals(a: Any, b: Any) -> bool:
    """`==`: JavaScript's abstract equality (null == undefined, "1" == 1, true == 1, [1] == "1")."""
    if a is None or b is None:
        return a is None and b is None
    a_bool = isinstance(a, bool)
    b_bool = isinstance(b, bool)
    if a_bool and b_bool:
        return a == b
    if a_bool:
        return loose_equals(int(a), b)
    if b_bool:
        return loose_equals(a, int(b))
    a_num = isinstance(a, (int, float))
    b_num = isinstance(b, (int, float))
    if a_num and b_num:
        return a == b
    a_str = isinstance(a, str)
    b_str = isinstance(b, str)
    if a_str and b_str:
        return a == b
    if (a_num and b_str) or (a_str and b_num):
        return to_number(a) == to_number(b)
    a_obj = not (a_num or a_str)
    b_obj = not (b_num or b_str)
    if a_obj and b_obj:
        return a is b
    return loose_equals(to_primitive(a), to_primitive(b))

"""JavaScript value semantics over JSON-like Python values.

Values are None (JS null and undefined alike), bool, int, float, str, list and dict. ints
stand for integral JS numbers inside the safe range (|n| <= 2**53); anything bigger
becomes a float, as in JavaScript. This module holds the conversions every operator and
built-in shares: truthiness, ToNumber, ToString (and number printing), property keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_SAFE_INTEGER = 2**53
INF = math.inf
NAN = math.nan

# JS StrWhiteSpaceChar: WhiteSpace and LineTerminator (what String.prototype.trim strips).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_INTEGER = re.compile(r"[+-]?\d{1,15}\Z")
_PREFIXED = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
BLOCKED_KEYS = frozenset({"__proto__", "constructor", "prototype"})


def is_blocked_key(key: str) -> bool:
    """Keys that would reach a host object in JavaScript; refused everywhere (docs/language.md#expression-syntax)."""
    return key in BLOCKED_KEYS or key.startswith("__")


def is_number(value: Any) -> bool:
    """True for int and float, never for bool (which is a Python int)."""
    t = type(value)
    return t is int or t is float or (isinstance(value, (int, float)) and not isinstance(value, bool))


def truthy(value: Any) -> bool:
    """JavaScript truthiness: 0, NaN, "", null and false are falsy; [] and {} are truthy."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    t = type(value)
    if t is str:
        return value != ""
    if t is int:
        return value != 0
    if t is float:
        return value == value and value != 0.0
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def normalize_int(value: int) -> int | float:
    """An int result outside the safe range becomes a float, as JS numbers are doubles."""
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    try:
        return float(value)
    except OverflowError:
        return INF if value > 0 else -INF


def integral(value: float) -> int | float:
    """An integral float as an int when it is safely representable (floor/ceil/round results)."""
    if value == value and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    return value


def string_to_number(text: str) -> int | float:
    """JS StringToNumber: trimmed, "" is 0, decimal/hex/octal/binary, else NaN."""
    s = text.strip(JS_WHITESPACE)
    if not s:
        return 0
    if _INTEGER.match(s):
        n = int(s)
        return -0.0 if n == 0 and s[0] == "-" else n  # "-0" is negative zero
    if _DECIMAL.match(s):
        try:
            return float(s)
        except (OverflowError, ValueError):
            return NAN
    if s in ("Infinity", "+Infinity"):
        return INF
    if s == "-Infinity":
        return -INF
    base = _PREFIXED.get(s[:2])
    if base is not None and len(s) > 2:
        try:
            return normalize_int(int(s[2:], base))
        except ValueError:
            return NAN
    return NAN


def to_number(value: Any) -> int | float:
    """JS ToNumber: null -> 0, booleans -> 1/0, strings parsed, arrays via their string form."""
    t = type(value)
    if t is int or t is float:
        return value
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, str):
        return string_to_number(value)
    if isinstance(value, (int, float)):
        return float(value) if isinstance(value, float) else int(value)
    if isinstance(value, (list, tuple)):
        return string_to_number(to_js_string(value))
    return NAN


def number_to_string(value: int | float) -> str:
    """JS Number::toString: `3` not `3.0`, `1e+21`, `1e-7`, `0.30000000000000004`."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return str(value)
        try:  # beyond 2**53 a JavaScript number is a double: print that double
            value = float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if value != value:
        return "NaN"
    if value == INF:
        return "Infinity"
    if value == -INF:
        return "-Infinity"
    if value == 0:
        return "0"
    if float(value).is_integer():
        if abs(value) < MAX_SAFE_INTEGER:
            return str(int(value))
    elif 1e-4 <= abs(value) < 1e16:  # where Python's shortest repr is already JavaScript's
        return repr(value)
    sign = "-" if value < 0 else ""
    return sign + _js_digits(repr(abs(value)))


def _js_digits(text: str) -> str:
    """Rewrites Python's shortest repr of a positive float in JavaScript's layout."""
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    power = exponent - len(fraction)  # value = int(digits) * 10**power
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + power  # position of the decimal point relative to the digits
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return (digits if k == 1 else digits[0] + "." + digits[1:]) + exp


def to_js_string(value: Any) -> str:
    """JS String(): null -> "null", arrays joined with ",", objects "[object Object]"."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else to_js_string(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    source = getattr(type(value), "js_source", None)
    if source is not None:
        return source(value)
    return "[object Object]"


def property_key(value: Any) -> str:
    """The string a value becomes when used as an object key (`obj[1]` reads key "1")."""
    if isinstance(value, str):
        return value
    return to_js_string(value)


def list_index(key: Any) -> int | None:
    """The array index a key denotes (0, 1.0, "2"), or None when it is not one."""
    t = type(key)
    if t is int:
        return key
    if t is float:
        return int(key) if key.is_integer() else None
    if t is str:
        if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
            return int(key) if len(key) < 16 else None
        return None
    if isinstance(key, bool) or not isinstance(key, (int, float)):
        return None
    return list_index(float(key) if isinstance(key, float) else int(key))


def type_name(value: Any) -> str:
    """typeof as FlowScript answers it: null, array, object, string, number, boolean, function."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    if callable(value):
        return "function"
    return "object"

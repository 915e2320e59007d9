"""String built-ins. Strings are sequences of Unicode code points (an emoji has length 1).

null reads as "" and other values print as in a template (`upper(5)` is "5"). Functions
that can grow a string check the size limit before building it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscript.expressions.functions.common import array, deep_equal, integer, text
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.values import JS_WHITESPACE


@builtin("string")
def upper(s: Any) -> str:
    """upper(s)
    The string in upper case, Unicode-aware ("straße" -> "STRASSE")."""
    return text(s).upper()


@builtin("string")
def lower(s: Any) -> str:
    """lower(s)
    The string in lower case, Unicode-aware."""
    return text(s).lower()


@builtin("string")
def trim(s: Any) -> str:
    """trim(s)
    The string without leading and trailing whitespace (JavaScript's whitespace set)."""
    return text(s).strip(JS_WHITESPACE)


@builtin("string", context=True)
def replace(ctx: EvalContext, s: Any, find: Any, replacement: Any = None) -> str:
    """replace(s, find, replacement="")
    Replaces every occurrence of `find` (literal text, not a pattern) with `replacement`."""
    s, find, replacement = text(s), text(find), text(replacement)
    count = len(s) + 1 if find == "" else s.count(find)
    ctx.check_string(len(s) + count * (len(replacement) - len(find)), "replace() result")
    return s.replace(find, replacement)


@builtin("string", context=True)
def split(ctx: EvalContext, s: Any, separator: Any = None, limit: Any = None) -> list[str]:
    """split(s, separator, limit?)
    The parts of s between separators; "" splits into characters; null s gives []."""
    if s is None:
        return []
    s = text(s)
    if separator is None:
        parts = [s]
    else:
        sep = text(separator)
        ctx.check_array(len(s) if sep == "" else s.count(sep) + 1, "split() result")
        parts = list(s) if sep == "" else s.split(sep)
    if limit is not None:
        parts = parts[: max(0, integer(limit))]
    return parts


@builtin("string", context=True)
def join(ctx: EvalContext, arr: Any, separator: Any = ",") -> str:
    """join(arr, separator=",")
    The items printed as in a template (null as "") and joined with the separator."""
    items = [text(v) for v in array("join", arr)]
    sep = "," if separator is None else text(separator)
    ctx.check_string(sum(map(len, items)) + len(sep) * max(0, len(items) - 1), "join() result")
    return sep.join(items)


@builtin("string")
def truncate(s: Any, n: Any, suffix: Any = "...") -> str:
    """truncate(s, n, suffix="...")
    s cut so that the result, suffix included, is at most n characters long."""
    s = text(s)
    if n is None:
        return s
    limit = max(0, integer(n))
    if len(s) <= limit:
        return s
    tail = "..." if suffix is None else text(suffix)
    if len(tail) >= limit:
        return s[:limit]
    return s[: limit - len(tail)] + tail


@builtin("string")
def includes(s: Any, part: Any) -> bool:
    """includes(s, part)
    Whether the string contains part (for an array: whether an item equals part)."""
    if isinstance(s, (list, tuple)):
        return any(deep_equal(v, part) for v in s)
    if s is None or part is None:
        return False
    return text(part) in text(s)


@builtin("string")
def starts_with(s: Any, prefix: Any) -> bool:
    """starts_with(s, prefix)
    Whether s begins with prefix."""
    if s is None or prefix is None:
        return False
    return text(s).startswith(text(prefix))


@builtin("string")
def ends_with(s: Any, suffix: Any) -> bool:
    """ends_with(s, suffix)
    Whether s ends with suffix."""
    if s is None or suffix is None:
        return False
    return text(s).endswith(text(suffix))


@builtin("string")
def substring(s: Any, start: Any, end: Any = None) -> str:
    """substring(s, start, end?)
    The characters from start up to (not including) end, as JavaScript's substring:
    negative positions count as 0 and the bounds are swapped when start > end."""
    s = text(s)
    n = len(s)
    a = min(max(integer(start), 0), n)
    b = n if end is None else min(max(integer(end), 0), n)
    if a > b:
        a, b = b, a
    return s[a:b]


def _pad(ctx: EvalContext, s: Any, n: Any, fill: Any, at_start: bool) -> str:
    s = text(s)
    width = integer(n)
    filler = " " if fill is None else text(fill)
    if width <= len(s) or filler == "":
        return s
    ctx.check_string(width, "padded string")
    missing = width - len(s)
    pad = (filler * (missing // len(filler) + 1))[:missing]
    return pad + s if at_start else s + pad


@builtin("string", context=True)
def pad_start(ctx: EvalContext, s: Any, n: Any, fill: Any = " ") -> str:
    """pad_start(s, n, fill=" ")
    s preceded by as much of fill (repeated) as makes it n characters long."""
    return _pad(ctx, s, n, fill, True)


@builtin("string", context=True)
def pad_end(ctx: EvalContext, s: Any, n: Any, fill: Any = " ") -> str:
    """pad_end(s, n, fill=" ")
    s followed by as much of fill (repeated) as makes it n characters long."""
    return _pad(ctx, s, n, fill, False)


@builtin("string", context=True)
def repeat(ctx: EvalContext, s: Any, n: Any) -> str:
    """repeat(s, n)
    s repeated n times ("" when n <= 0)."""
    s = text(s)
    times = integer(n)
    if times <= 0 or not s:
        return ""
    ctx.check_string(len(s) * times, "repeat() result")
    return s * times


@builtin("string")
def char_at(s: Any, i: Any) -> str:
    """char_at(s, i)
    The character at position i, or "" when there is none."""
    s = text(s)
    k = integer(i)
    return s[k] if 0 <= k < len(s) else ""


def length_of(value: Any) -> int:
    """Characters of a string, items of an array, keys of an object; 0 for anything else."""
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value)
    return 0


@builtin("string")
def len_(value: Any) -> int:
    """len(value)
    The length of a string or an array (keys of an object); 0 for null."""
    return length_of(value)

"""Regular-expression built-ins (match, test, match_all), with JavaScript-style flags.

Patterns come from workflow authors and run on untrusted data, so they run on the
`regex` module with a timeout: a catastrophic pattern fails with an error instead of
hanging the engine.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flowscript.expressions.functions.common import eval_error, text
from flowscript.expressions.functions.lazy import lazy
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.limits import EvalContext

if TYPE_CHECKING:
    import regex
else:
    regex = lazy("regex")

_FLAGS = {"i": "IGNORECASE", "m": "MULTILINE", "s": "DOTALL", "u": None, "g": None}  # names: regex loads late
MAX_PATTERN_LENGTH = 10_000


@lru_cache(maxsize=512)
def _compile(pattern: str, flags: str) -> regex.Pattern[str]:
    bits = regex.V0
    for flag in flags:
        if flag not in _FLAGS:
            raise eval_error(f"unsupported regular-expression flag {flag!r} (use i, m, s, g)")
        name = _FLAGS[flag]
        bits |= getattr(regex, name) if name else 0
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise eval_error("regular expression is too long")
    try:
        return regex.compile(pattern, bits)
    except (regex.error, ValueError, OverflowError, RecursionError) as e:
        raise eval_error(f"invalid regular expression {pattern!r}: {e}") from None


def _timeout(ctx: EvalContext) -> float:
    remaining = ctx.remaining_seconds()
    if remaining <= 0:
        ctx.check()
    return max(0.001, min(ctx.limits.regex_timeout, remaining))


def _too_slow(pattern: str) -> Exception:
    return eval_error(f"regular expression {pattern!r} took too long (over its time limit)")


def _groups(m: regex.Match[str]) -> list[Any]:
    return [m.group(0), *m.groups()]


def _matches(ctx: EvalContext, s: str, pattern: str, flags: str) -> list[regex.Match[str]]:
    compiled = _compile(pattern, flags)
    found: list[regex.Match[str]] = []
    try:
        for m in compiled.finditer(s, timeout=_timeout(ctx)):
            found.append(m)
            if len(found) % 256 == 0:
                ctx.check_array(len(found), "match list")
    except TimeoutError:
        raise _too_slow(pattern) from None
    ctx.check_array(len(found), "match list")
    return found


@builtin("utility", context=True)
def match(ctx: EvalContext, s: Any, pattern: Any, flags: Any = "") -> list[Any] | None:
    """match(s, pattern, flags?)
    The first match as [whole, group1, ...] (null for an unmatched group), or null. With the
    flag "g", the list of every whole match instead. Flags: i (ignore case), m, s, g."""
    if s is None or pattern is None:
        return None
    flag_text = "" if flags is None else text(flags)
    if "g" in flag_text:
        found = _matches(ctx, text(s), text(pattern), flag_text)
        return [m.group(0) for m in found] or None
    try:
        m = _compile(text(pattern), flag_text).search(text(s), timeout=_timeout(ctx))
    except TimeoutError:
        raise _too_slow(text(pattern)) from None
    return None if m is None else _groups(m)


@builtin("utility", context=True)
def test(ctx: EvalContext, s: Any, pattern: Any, flags: Any = "") -> bool:
    """test(s, pattern, flags?)
    Whether the pattern matches somewhere in s."""
    if s is None or pattern is None:
        return False
    try:
        return _compile(text(pattern), "" if flags is None else text(flags)).search(
            text(s), timeout=_timeout(ctx)) is not None
    except TimeoutError:
        raise _too_slow(text(pattern)) from None


@builtin("utility", context=True)
def match_all(ctx: EvalContext, s: Any, pattern: Any, flags: Any = "") -> list[list[Any]]:
    """match_all(s, pattern, flags?)
    Every match, each as [whole, group1, ...] (as JavaScript's matchAll)."""
    if s is None or pattern is None:
        return []
    return [_groups(m) for m in _matches(ctx, text(s), text(pattern), "" if flags is None else text(flags))]

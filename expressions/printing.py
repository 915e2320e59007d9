"""Printing values as JavaScript does: template text and JSON.stringify.

Python's json module prints `3.0`, `1e-07`, `NaN` and `1e+16` where JavaScript prints `3`,
`1e-7`, `null` and `10000000000000000`. We normalise the value first (integral floats
become ints, non-finite numbers null) and let orjson do the work (json's indented encoder
is pure Python: ten times slower on a file of 10,000 records); the rare floats whose
JavaScript spelling Python cannot produce are spliced in afterwards. What orjson refuses (a
lone surrogate, nesting beyond 255 levels) goes through json.dumps, which prints the
same.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

import orjson

from flowscript.errors import ExpressionError
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.values import (
    MAX_SAFE_INTEGER,
    number_to_string,
    property_key,
)

_SURROGATE = re.compile("[\ud800-\udfff]")
_COMPACT = (",", ":")
_INDENTED = (",", ": ")
_ORJSON_OPTIONS = {None: 0, 2: orjson.OPT_INDENT_2}


class _TooBig(Exception):
    pass


_SKIP = object()


class _Normalizer:
    """One walk over a value: JSON-ready copy, JS spellings of odd numbers, a size estimate.

    The loops inline the common leaves (strings, safe ints, null, booleans): this walk runs
    over whole run states, so it must cost little more than json.dumps itself."""

    __slots__ = ("budget", "nonce", "size", "specials")

    def __init__(self, budget: int | None) -> None:
        self.specials: list[str] = []
        self.size = 0
        self.budget = budget
        self.nonce = ""

    def number(self, value: Any) -> Any:
        if isinstance(value, int):
            if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                return int(value)
            return self.special(number_to_string(value))
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return int(value) if abs(value) <= MAX_SAFE_INTEGER else self.special(number_to_string(value))
        if abs(value) < 1e-4:
            return self.special(number_to_string(value))
        return float(value)

    def special(self, text: str) -> Any:
        if text in ("Infinity", "-Infinity", "NaN"):
            return None
        if not self.nonce:
            self.nonce = os.urandom(8).hex()
        self.specials.append(text)
        return f"\x00{self.nonce}:{len(self.specials) - 1}\x00"

    def walk(self, value: Any) -> Any:
        """The value ready for json.dumps; containers are copied only when something changes."""
        t = type(value)
        if t is dict:
            return self.mapping(value)
        if t is list:
            return self.sequence(value)
        if t is str:
            self._grow(len(value) + 2)
            return value
        if value is None or t is bool:
            return value
        if t is int or t is float:
            return self.number(value)
        return self.other(value)

    def mapping(self, value: dict[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] | None = None
        size = 2 + 8 * len(value)
        for i, (k, v) in enumerate(value.items()):
            key = k if type(k) is str else property_key(k)
            size += len(key)
            tv = type(v)
            if tv is str:
                size += len(v)
                new = v
            elif v is None or tv is bool or (tv is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER):
                new = v
            elif getattr(tv, "js_source", None) is not None:  # JSON.stringify leaves functions out
                new = _SKIP
            else:
                new = self.walk(v)
            if out is None:
                if new is v and key is k:
                    continue
                out = dict(itertools.islice(value.items(), i))
            if new is not _SKIP:
                out[key] = new
        self._grow(size)
        return value if out is None else out

    def sequence(self, value: list[Any] | tuple[Any, ...]) -> list[Any]:  # `mapping`'s twin, unrolled for speed
        out: list[Any] | None = None
        size = 2 + 8 * len(value)
        for i, v in enumerate(value):
            tv = type(v)
            if tv is str:
                size += len(v)
                new = v
            elif v is None or tv is bool or (tv is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER):
                new = v
            else:
                new = self.walk(v)
            if out is None:
                if new is v:
                    continue
                out = list(value[:i])
            out.append(new)
        self._grow(size)
        return value if out is None else out  # type: ignore[return-value]

    def other(self, value: Any) -> Any:
        """The rare cases: subclasses, other mappings and collections, host objects."""
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, str):
            return self.walk(str(value))
        if isinstance(value, (int, float)):
            return self.number(value)
        if isinstance(value, Mapping):
            return self.mapping(dict(value.items()))
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.sequence(list(value))
        if getattr(type(value), "js_source", None) is not None:
            return None
        iso = getattr(value, "isoformat", None)
        return self.walk(iso() if callable(iso) else str(value))

    def _grow(self, n: int) -> None:
        self.size += n
        if self.budget is not None and self.size > self.budget:
            raise _TooBig


def _encode(value: Any, indent: int | None, budget: int | None) -> str:
    normalizer = _Normalizer(budget)
    plain = normalizer.walk(value)
    text = None
    if indent in _ORJSON_OPTIONS:  # orjson indents by 2 only
        with contextlib.suppress(TypeError):
            text = orjson.dumps(plain, option=_ORJSON_OPTIONS[indent]).decode("utf-8")
    if text is None:
        separators = _COMPACT if indent is None else _INDENTED
        text = escape_surrogates(json.dumps(plain, ensure_ascii=False, allow_nan=False, indent=indent,
                                            separators=separators))
    if normalizer.specials:
        # each marker is a quoted string holding a random nonce: no user text can match it
        nonce = normalizer.nonce
        for i, spelled in enumerate(normalizer.specials):
            text = text.replace(f'"\\u0000{nonce}:{i}\\u0000"', spelled, 1)
    return text


def escape_surrogates(text: str) -> str:
    """Lone surrogates (from a `\\ud800` escape in some input) as escapes: UTF-8 cannot hold them."""
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _too_deep() -> ExpressionError:
    return ExpressionError("value is too deeply nested to encode as JSON", code="EXPR_EVAL_ERROR")


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON as JavaScript's JSON.stringify prints it (compact unless `indent` is given)."""
    try:
        return _encode(value, indent, None)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, TypeError, OverflowError) as e:
        raise ExpressionError(f"value cannot be encoded as JSON: {e}", code="EXPR_EVAL_ERROR") from None


def to_json_limited(value: Any, ctx: EvalContext, indent: int | None = None) -> str:
    """to_json that refuses, before building it, a text longer than the evaluation's limit."""
    try:
        text = _encode(value, indent, ctx.max_string if indent is None else ctx.max_string // 2)
    except _TooBig:
        raise ExpressionError(
            f"JSON text would be longer than the limit of {ctx.max_string:,} characters",
            code="EXPR_EVAL_ERROR",
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, TypeError, OverflowError) as e:
        raise ExpressionError(f"value cannot be encoded as JSON: {e}", code="EXPR_EVAL_ERROR") from None
    ctx.check_string(len(text), "JSON text")
    return text


def to_template_string(value: Any) -> str:
    """How a value prints in a template: null -> "", numbers as JS, containers as compact JSON.
    (Deliberately beside values.to_js_string, JavaScript's String(): the two differ on null and
    on containers, and both sit on the per-value hot path, so neither calls the other.)"""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if getattr(type(value), "js_source", None) is not None:
        return type(value).js_source(value)
    return to_json(value)


def template_string_limited(value: Any, ctx: EvalContext) -> str:
    """to_template_string under the evaluation's size limit."""
    if isinstance(value, (list, tuple, Mapping)):
        return to_json_limited(value, ctx)
    return to_template_string(value)


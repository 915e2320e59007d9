"""Closure factories with inlined fast paths: built-in calls and binary operators.

The compiler (compiler.py) decides what to build; these functions build the closures that
run on every evaluation, so they are written for speed: int/float/str cases inline, the
full JavaScript rules (operators.py) only as a fallback, and one try block per call that
gives errors raised inside a built-in the call's position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions.functions import BuiltinFunction
from flowscript.expressions.lambdas import Closure
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.operators import (
    add,
    arith,
    compare,
    divide,
    loose_equals,
    signed_zero,
    strict_equals,
)
from flowscript.expressions.values import MAX_SAFE_INTEGER, normalize_int, truthy

Scope = Mapping[str, Any]


def located(e: ExpressionError, pos: int) -> ExpressionError:
    """Gives an error raised without a position (by a built-in, a limit) the node's position."""
    if e.position is None:
        e.position = pos
    return e


def internal(name: str, e: Exception, pos: int) -> ExpressionError:
    """A Python exception inside a built-in becomes an expression error, never a traceback."""
    if isinstance(e, RecursionError):
        return ExpressionError("value is too deeply nested to process", code="EXPR_EVAL_ERROR", position=pos)
    return ExpressionError(f"{name}() failed: {type(e).__name__}: {e}", code="EXPR_EVAL_ERROR", position=pos)


# ---------------------------------------------------------------------- calls


def make_call(fn: BuiltinFunction, args: list[Closure], pos: int) -> Closure:
    impl = fn.impl
    name = fn.name
    n = len(args)
    if fn.needs_context:
        if n == 1:
            (a,) = args

            def call_c1(s: Scope, loc: dict, c: EvalContext) -> Any:
                try:
                    return impl(c, a(s, loc, c))
                except ExpressionError as e:
                    raise located(e, pos) from None
                except Exception as e:
                    raise internal(name, e, pos) from e
            return call_c1
        if n == 2:
            a, b = args

            def call_c2(s: Scope, loc: dict, c: EvalContext) -> Any:
                try:
                    return impl(c, a(s, loc, c), b(s, loc, c))
                except ExpressionError as e:
                    raise located(e, pos) from None
                except Exception as e:
                    raise internal(name, e, pos) from e
            return call_c2
        if n == 3:
            a, b, d = args

            def call_c3(s: Scope, loc: dict, c: EvalContext) -> Any:
                try:
                    return impl(c, a(s, loc, c), b(s, loc, c), d(s, loc, c))
                except ExpressionError as e:
                    raise located(e, pos) from None
                except Exception as e:
                    raise internal(name, e, pos) from e
            return call_c3

        def call_cn(s: Scope, loc: dict, c: EvalContext) -> Any:
            try:
                return impl(c, *[f(s, loc, c) for f in args])
            except ExpressionError as e:
                raise located(e, pos) from None
            except Exception as e:
                raise internal(name, e, pos) from e
        return call_cn
    if n == 1:
        (a,) = args

        def call1(s: Scope, loc: dict, c: EvalContext) -> Any:
            try:
                return impl(a(s, loc, c))
            except ExpressionError as e:
                raise located(e, pos) from None
            except Exception as e:
                raise internal(name, e, pos) from e
        return call1
    if n == 2:
        a, b = args

        def call2(s: Scope, loc: dict, c: EvalContext) -> Any:
            try:
                return impl(a(s, loc, c), b(s, loc, c))
            except ExpressionError as e:
                raise located(e, pos) from None
            except Exception as e:
                raise internal(name, e, pos) from e
        return call2

    def calln(s: Scope, loc: dict, c: EvalContext) -> Any:
        try:
            return impl(*[f(s, loc, c) for f in args])
        except ExpressionError as e:
            raise located(e, pos) from None
        except Exception as e:
            raise internal(name, e, pos) from e
    return calln


# ---------------------------------------------------------------------- binary operators

Maker = Callable[[Closure, Closure, str, int], Closure]


def _logical_and(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    def and_(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        if a is True:
            return right(s, loc, c)
        if a is False or a is None:
            return a
        return right(s, loc, c) if truthy(a) else a
    return and_


def _logical_or(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    def or_(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        if a is True:
            return a
        if a is False or a is None:
            return right(s, loc, c)
        return a if truthy(a) else right(s, loc, c)
    return or_


def _nullish(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    def nullish(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        return right(s, loc, c) if a is None else a
    return nullish


def _plus(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    def plus(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        b = right(s, loc, c)
        ta = type(a)
        tb = type(b)
        if ta is int and tb is int:
            r = a + b
            return r if -MAX_SAFE_INTEGER <= r <= MAX_SAFE_INTEGER else normalize_int(r)
        if ta is float and tb is float:
            return a + b
        if ta is str and tb is str and len(a) + len(b) < 4096:
            return a + b
        try:
            return add(a, b, c)
        except ExpressionError as e:
            raise located(e, pos) from None
    return plus


def _minus_times(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    minus = op == "-"

    def arithmetic(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        b = right(s, loc, c)
        ta = type(a)
        tb = type(b)
        if ta is int and tb is int:
            r = a - b if minus else a * b
            if r == 0 and not minus:
                return signed_zero(r, a, b)
            return r if -MAX_SAFE_INTEGER <= r <= MAX_SAFE_INTEGER else normalize_int(r)
        if ta is float and tb is float:
            return a - b if minus else a * b
        return arith(op, a, b)
    return arithmetic


def _divide(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    def div(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        b = right(s, loc, c)
        ta = type(a)
        tb = type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            return divide(a, b)
        return arith("/", a, b)
    return div


def _other_arith(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    return lambda s, loc, c: arith(op, left(s, loc, c), right(s, loc, c))


def _relational(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    if op == "<":
        def lt(s: Scope, loc: dict, c: EvalContext) -> Any:
            a = left(s, loc, c)
            b = right(s, loc, c)
            ta = type(a)
            tb = type(b)
            if (ta is int or ta is float) and (tb is int or tb is float):
                return a < b
            return compare(op, a, b)
        return lt
    if op == ">":
        def gt(s: Scope, loc: dict, c: EvalContext) -> Any:
            a = left(s, loc, c)
            b = right(s, loc, c)
            ta = type(a)
            tb = type(b)
            if (ta is int or ta is float) and (tb is int or tb is float):
                return a > b
            return compare(op, a, b)
        return gt
    if op == "<=":
        def le(s: Scope, loc: dict, c: EvalContext) -> Any:
            a = left(s, loc, c)
            b = right(s, loc, c)
            ta = type(a)
            tb = type(b)
            if (ta is int or ta is float) and (tb is int or tb is float):
                return a <= b
            return compare(op, a, b)
        return le

    def ge(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        b = right(s, loc, c)
        ta = type(a)
        tb = type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            return a >= b
        return compare(op, a, b)
    return ge


def _equality(left: Closure, right: Closure, op: str, pos: int) -> Closure:
    strict = op in ("===", "!==")
    negated = op in ("!=", "!==")
    test = strict_equals if strict else loose_equals

    def eq(s: Scope, loc: dict, c: EvalContext) -> Any:
        a = left(s, loc, c)
        b = right(s, loc, c)
        ta = type(a)
        if ta is type(b) and (ta is str or ta is int or ta is float):
            return (a != b) if negated else (a == b)
        return (not test(a, b)) if negated else test(a, b)
    return eq


BINARY: dict[str, Maker] = {
    "&&": _logical_and,
    "||": _logical_or,
    "??": _nullish,
    "+": _plus,
    "-": _minus_times,
    "*": _minus_times,
    "/": _divide,
    "%": _other_arith,
    "**": _other_arith,
    "<": _relational,
    ">": _relational,
    "<=": _relational,
    ">=": _relational,
    "==": _equality,
    "!=": _equality,
    "===": _equality,
    "!==": _equality,
}

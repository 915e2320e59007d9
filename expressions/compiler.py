"""Syntax tree -> nested Python closures `f(scope, locals, ctx)`.

Compiling once into closures means evaluation never re-dispatches on node types: each
node becomes a small function that calls its children directly (closures.py builds the
hot ones). Everything decidable from the source is checked here, once: unknown functions, arity,
blocked names and keys, where arrow functions may appear, tree depth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions.access import blocked, get_index, get_member
from flowscript.expressions.closures import BINARY, make_call
from flowscript.expressions.functions import FUNCTIONS, BuiltinFunction
from flowscript.expressions.lambdas import Closure, Lambda
from flowscript.expressions.limits import MAX_TREE_DEPTH, EvalContext
from flowscript.expressions.nodes import (
    ArrayLit,
    Arrow,
    Binary,
    Call,
    Conditional,
    Index,
    Literal,
    Member,
    Name,
    Node,
    ObjectLit,
    Unary,
)
from flowscript.expressions.operators import negate
from flowscript.expressions.values import is_blocked_key, property_key, to_number, truthy

Scope = Mapping[str, Any]


class Compiler:
    """Compiles one expression; collects the free names it reads, with their offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.names: list[tuple[str, int]] = []
        self.bound: frozenset[str] = frozenset()
        self.depth = 0

    def fail(self, message: str, pos: int, code: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, code=code, expression=self.source, position=pos, hint=hint)

    def compile(self, node: Node) -> Closure:
        self.depth += 1
        if self.depth > MAX_TREE_DEPTH:
            raise self.fail(f"expression is too deeply nested (more than {MAX_TREE_DEPTH} levels)", node.pos,
                            "EXPR_PARSE_ERROR")
        try:
            return _DISPATCH[type(node)](self, node)
        finally:
            self.depth -= 1

    # ------------------------------------------------------------------ leaves

    def literal(self, node: Literal) -> Closure:
        value = node.value
        return lambda s, loc, c: value

    def name(self, node: Name) -> Closure:
        name = node.name
        if name in self.bound:
            return lambda s, loc, c: loc[name]
        if is_blocked_key(name):
            raise self.fail(f"the name '{name}' is blocked", node.pos, "EXPR_BLOCKED_ACCESS")
        self.names.append((name, node.pos))
        return lambda s, loc, c: s.get(name)

    # ------------------------------------------------------------------ access

    def member(self, node: Member) -> Closure:
        key = node.key
        if is_blocked_key(key):
            e = blocked(key, node.pos)
            e.expression = self.source
            raise e
        obj = self.compile(node.obj)
        if key == "length":
            def length(s: Scope, loc: dict, c: EvalContext) -> Any:
                o = obj(s, loc, c)
                t = type(o)
                if t is str or t is list:
                    return len(o)
                if t is dict:
                    return o.get("length")
                return get_member(o, "length")
            return length

        def member(s: Scope, loc: dict, c: EvalContext) -> Any:
            o = obj(s, loc, c)
            if type(o) is dict:
                return o.get(key)
            return get_member(o, key)
        return member

    def index(self, node: Index) -> Closure:
        obj = self.compile(node.obj)
        key = self.compile(node.index)
        pos = node.pos

        def index(s: Scope, loc: dict, c: EvalContext) -> Any:
            o = obj(s, loc, c)
            k = key(s, loc, c)
            if type(o) is list and type(k) is int:
                return o[k] if 0 <= k < len(o) else None
            return get_index(o, k, pos)
        return index

    # ------------------------------------------------------------------ calls

    def call(self, node: Call) -> Closure:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            import difflib  # only for this hint: a process that never mistypes never loads it

            close = difflib.get_close_matches(node.name, list(FUNCTIONS), n=1)
            raise self.fail(f"unknown function '{node.name}'", node.pos, "EXPR_UNDEFINED_FUNCTION",
                            hint=f"did you mean '{close[0]}'?" if close else "see `flowscript functions`")
        self._check_arguments(fn, node)
        args = [self.compile(a) for a in node.args]
        return make_call(fn, args, node.pos)

    def _check_arguments(self, fn: BuiltinFunction, node: Call) -> None:
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            if fn.max_args is None:
                wanted = f"at least {fn.min_args}"
            elif fn.min_args == fn.max_args:
                wanted = str(fn.min_args)
            else:
                wanted = f"{fn.min_args} to {fn.max_args}"
            plural = "" if wanted == "1" else "s"
            raise self.fail(f"{fn.name}() takes {wanted} argument{plural}, got {n}", node.pos,
                            "EXPR_TYPE_ERROR", hint=fn.signature)
        for i, arg in enumerate(node.args):
            if isinstance(arg, Arrow) and i not in fn.function_args:
                raise self.fail(f"{fn.name}() does not take a function as argument {i + 1}", arg.pos,
                                "EXPR_TYPE_ERROR", hint=fn.signature)

    def arrow(self, node: Arrow) -> Closure:
        params = tuple(node.params)
        for p in params:
            if is_blocked_key(p):
                raise self.fail(f"the name '{p}' is blocked", node.pos, "EXPR_BLOCKED_ACCESS")
        outer = self.bound
        self.bound = outer | set(params)
        try:
            body = self.compile(node.body)
        finally:
            self.bound = outer
        source = node.source
        return lambda s, loc, c: Lambda(params, body, s, loc, c, source)

    # ------------------------------------------------------------------ operators

    def unary(self, node: Unary) -> Closure:
        f = self.compile(node.operand)
        if node.op == "!":
            return lambda s, loc, c: not truthy(f(s, loc, c))
        if node.op == "-":
            def neg(s: Scope, loc: dict, c: EvalContext) -> Any:
                v = f(s, loc, c)
                t = type(v)
                if t is float or (t is int and v):
                    return -v
                return negate(v)  # an integer zero keeps its sign: -0 is JavaScript's negative zero
            return neg
        return lambda s, loc, c: to_number(f(s, loc, c))

    def binary(self, node: Binary) -> Closure:
        left = self.compile(node.left)
        right = self.compile(node.right)
        maker = BINARY[node.op]
        return maker(left, right, node.op, node.pos)

    def conditional(self, node: Conditional) -> Closure:
        test = self.compile(node.test)
        then = self.compile(node.then)
        otherwise = self.compile(node.otherwise)
        return lambda s, loc, c: then(s, loc, c) if truthy(test(s, loc, c)) else otherwise(s, loc, c)

    # ------------------------------------------------------------------ literals

    def array(self, node: ArrayLit) -> Closure:
        items = tuple(self.compile(i) for i in node.items)
        if not items:
            return lambda s, loc, c: []
        return lambda s, loc, c: [f(s, loc, c) for f in items]

    def object(self, node: ObjectLit) -> Closure:
        static: list[tuple[str, Closure]] = []
        computed: list[tuple[Closure | str, Closure, int]] = []
        for prop in node.properties:
            if isinstance(prop.key, str) and is_blocked_key(prop.key):
                e = blocked(prop.key, prop.pos)
                e.expression = self.source
                raise e
            value = self.compile(prop.value)
            if isinstance(prop.key, str):
                static.append((prop.key, value))
                computed.append((prop.key, value, prop.pos))
            else:
                computed.append((self.compile(prop.key), value, prop.pos))
        if len(static) == len(computed):
            pairs = tuple(static)
            return lambda s, loc, c: {k: f(s, loc, c) for k, f in pairs}
        entries = tuple(computed)

        def obj(s: Scope, loc: dict, c: EvalContext) -> Any:
            out: dict[str, Any] = {}
            for key, value, pos in entries:
                if isinstance(key, str):
                    out[key] = value(s, loc, c)
                    continue
                name = property_key(key(s, loc, c))
                if is_blocked_key(name):
                    raise blocked(name, pos)
                out[name] = value(s, loc, c)
            return out
        return obj


_DISPATCH: dict[type, Callable[[Compiler, Any], Closure]] = {
    Literal: Compiler.literal,
    Name: Compiler.name,
    Member: Compiler.member,
    Index: Compiler.index,
    Call: Compiler.call,
    Arrow: Compiler.arrow,
    Unary: Compiler.unary,
    Binary: Compiler.binary,
    Conditional: Compiler.conditional,
    ArrayLit: Compiler.array,
    ObjectLit: Compiler.object,
}

"""Arrow-function values: what `x => x.score > 5` is when a built-in receives it.

A Lambda is created per evaluation of the arrow (not per item), binds its parameters in a
small dict of locals (so parameters shadow scope names) and charges one step per call:
callbacks are where an expression's work multiplies, so that is where the budget is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowscript.expressions.limits import EvalContext

Closure = Callable[[Mapping[str, Any], dict[str, Any], EvalContext], Any]


class Lambda:
    """A compiled arrow function closed over the scope and locals it was created in."""

    __slots__ = ("body", "ctx", "local", "params", "scope", "source")

    def __init__(self, params: tuple[str, ...], body: Closure, scope: Mapping[str, Any],
                 local: dict[str, Any], ctx: EvalContext, source: str) -> None:
        self.params = params
        self.body = body
        self.scope = scope
        self.local = local
        self.ctx = ctx
        self.source = source

    @property
    def arity(self) -> int:
        return len(self.params)

    def js_source(self) -> str:
        """String(fn) in JavaScript is the function's source text."""
        return self.source

    def __call__(self, *args: Any) -> Any:
        ctx = self.ctx
        ctx.steps += 1
        if ctx.steps > ctx.max_steps or not ctx.steps & 1023:
            ctx.check()
        local = dict(self.local) if self.local else {}
        n = len(args)
        for i, name in enumerate(self.params):
            local[name] = args[i] if i < n else None
        return self.body(self.scope, local, ctx)

    def __repr__(self) -> str:
        return f"<function {self.source}>"

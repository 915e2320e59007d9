"""The table of built-in functions and the decorator that fills it.

A built-in's docstring starts with its signature line (what `flowscript functions`
prints); the rest is its description. Arity comes from the Python signature, so the
compiler can refuse `upper(a, b)` before anything runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flowscript.expressions.limits import DEFAULT_LIMITS, EvalContext, Limits

CATEGORIES = ("string", "array", "math", "type", "object", "time", "utility", "higher-order")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class BuiltinFunction:
    """One built-in: metadata for docs and the compiler, and the implementation."""

    name: str
    category: str
    signature: str
    doc: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    needs_context: bool  # impl takes the EvalContext first (limits, step budget, callbacks)
    function_args: frozenset[int]  # argument positions where an arrow function is accepted

    def __call__(self, *args: Any, limits: Limits | None = None) -> Any:
        """Calls the function directly (outside an expression), e.g. from tests or tools."""
        if self.needs_context:
            return self.impl(EvalContext(limits or DEFAULT_LIMITS), *args)
        return self.impl(*args)


REGISTRY: dict[str, BuiltinFunction] = {}


def builtin(category: str, *, context: bool = False, functions: Iterable[int] = (),
            name: str | None = None, max_args: int | None = None) -> Callable[[F], F]:
    """Registers a built-in. Its name is the Python name without a trailing '_' (`min_` is min)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")

    def register(fn: F) -> F:
        fname = name or fn.__name__.rstrip("_")
        doc = inspect.getdoc(fn) or ""
        signature, _, description = doc.partition("\n")
        if not signature.startswith(fname + "("):
            raise ValueError(f"the docstring of {fname} must start with its signature")
        params = list(inspect.signature(fn).parameters.values())
        if context:
            params = params[1:]
        variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
        fixed = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        REGISTRY[fname] = BuiltinFunction(
            name=fname,
            category=category,
            signature=signature.strip(),
            doc=description.strip(),
            impl=fn,
            min_args=sum(1 for p in fixed if p.default is p.empty),
            max_args=max_args if max_args is not None else None if variadic else len(fixed),
            needs_context=context,
            function_args=frozenset(functions),
        )
        return fn

    return register

"""compile_expression and CompiledExpression: the compiled, cached form of one expression.

Compiling is cached by source and by the hyphenated node ids that occur in it (the only
ids that change how a source reads), so a map over 100,000 items parses its expression
once. Those ids are found from the source's own hyphenated words, not by scanning every
node id, and the whole id set is never part of a cache key (with 10,000 nodes either made
validating and planning quadratic). `evaluate` is the one place that guarantees nothing
but ExpressionError escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions import parser
from flowscript.expressions.compiler import Compiler
from flowscript.expressions.lambdas import Closure
from flowscript.expressions.limits import DEFAULT_LIMITS, MAX_SOURCE_LENGTH, EvalContext, Limits

_NO_LOCALS: dict[str, Any] = {}


class CompiledExpression:
    """One compiled expression: its free names (for validation and planning) and `evaluate`."""

    __slots__ = ("_fn", "name_positions", "names", "source")

    def __init__(self, source: str, fn: Closure, name_positions: tuple[tuple[str, int], ...]) -> None:
        self.source = source
        self._fn = fn
        self.name_positions = name_positions
        self.names = frozenset(name for name, _ in name_positions)

    def evaluate(self, scope: Mapping[str, Any], limits: Limits | None = None) -> Any:
        """The expression's value in `scope` (unknown names are null)."""
        return self.run(scope, EvalContext(limits or DEFAULT_LIMITS))

    def run(self, scope: Mapping[str, Any], ctx: EvalContext) -> Any:
        """evaluate() under an existing meter (templates share one across their segments)."""
        try:
            return self._fn(scope, _NO_LOCALS, ctx)
        except ExpressionError as e:
            if e.expression is None:
                e.expression = self.source
            if e.position is None:
                e.position = 0
            raise
        except RecursionError:
            raise self._error("expression is too deeply nested to evaluate") from None
        except Exception as e:  # a bug or a hostile scope object: still never a traceback
            raise self._error(f"evaluation failed: {type(e).__name__}: {e}") from e

    def _error(self, message: str) -> ExpressionError:
        return ExpressionError(message, code="EXPR_EVAL_ERROR", expression=self.source, position=0)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


def compile_expression(source: str, *, node_ids: Iterable[str] = ()) -> CompiledExpression:
    """Parses and compiles an expression (cached); raises ExpressionError with a position."""
    if not isinstance(source, str):
        raise ExpressionError(f"an expression must be a string, got {type(source).__name__}",
                              code="EXPR_TYPE_ERROR", position=0)
    return _compile(source, hyphen_ids_in(source, node_ids))


_NO_IDS: frozenset[str] = frozenset()
_HYPHENATED_WORD = re.compile(r"(?<![\w$])[\w$]++(?:-[\w$]++)+")  # possessive: linear in the word
_MAX_CANDIDATES = 1000


def hyphen_ids_in(source: str, node_ids: Iterable[str]) -> frozenset[str]:
    """The node ids containing '-' that the lexer may look up in `source`.

    The lexer only asks about the hyphenated words of the source and their runs of parts
    between dashes (`a-b-c`: `a-b-c`, `a-b`, `b-c`), so those are looked up in `node_ids`.
    A source with more such runs than there are ids falls back to checking each id.
    """
    if "-" not in source:
        return _NO_IDS
    ids = node_ids if isinstance(node_ids, frozenset | set) else frozenset(node_ids)
    if not ids:
        return _NO_IDS
    candidates = _candidates(source)
    if candidates is None or len(candidates) > len(ids):
        return _scan(source, ids if type(ids) is frozenset else frozenset(ids))
    return frozenset(c for c in candidates if c in ids)


@lru_cache(maxsize=256)
def _scan(source: str, ids: frozenset[str]) -> frozenset[str]:
    return frozenset(i for i in ids if "-" in i and i in source)


@lru_cache(maxsize=4096)
def _candidates(source: str) -> tuple[str, ...] | None:
    """The runs of parts of the hyphenated words in `source`; None when there are too many."""
    words = [word.split("-") for word in _HYPHENATED_WORD.findall(source)]
    if sum(len(parts) * (len(parts) - 1) // 2 for parts in words) > _MAX_CANDIDATES:
        return None
    return tuple({"-".join(parts[i:j]): None for parts in words
                  for i in range(len(parts) - 1) for j in range(i + 2, len(parts) + 1)})


@lru_cache(maxsize=4096)
def _compile(source: str, hyphen_ids: frozenset[str]) -> CompiledExpression:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"expression is too long ({len(source):,} characters; the limit is "
                              f"{MAX_SOURCE_LENGTH:,})", code="EXPR_PARSE_ERROR", expression=source,
                              position=MAX_SOURCE_LENGTH)
    try:
        tree = parser.parse(source, hyphen_ids)
        compiler = Compiler(source)
        fn = compiler.compile(tree)
    except RecursionError:
        raise ExpressionError("expression is too deeply nested", code="EXPR_PARSE_ERROR", expression=source,
                              position=0) from None
    return CompiledExpression(source, fn, tuple(compiler.names))


def clear_cache() -> None:
    """Forgets every compiled expression (tests, long-lived processes reloading workflows)."""
    _compile.cache_clear()
    _candidates.cache_clear()
    _scan.cache_clear()

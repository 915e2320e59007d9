"""Templates: text with `{{ expr }}` segments (docs/language.md#templates).

A segment ends at the first `}}` outside string literals and outside the braces of an
object literal, so `{{ {a: {b: 1}} }}` and `{{ "}}" }}` work. `{{` never nests. Errors
inside a segment point into the whole template (positions are offsets in its source).

A template that is exactly one `{{ expr }}`, optionally with whitespace around it, is a
"single expression": `evaluate` returns the raw value (a list stays a list) and the
surrounding whitespace is dropped. Anything else renders to a string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions.compiled import CompiledExpression, compile_expression, hyphen_ids_in
from flowscript.expressions.limits import DEFAULT_LIMITS, MAX_SOURCE_LENGTH, EvalContext, Limits
from flowscript.expressions.printing import template_string_limited, to_template_string
from flowscript.expressions.values import number_to_string

_BIG_INT = 10**21  # from here on, JavaScript prints numbers in exponent form
Segment = str | tuple[CompiledExpression, int]  # literal text, or (expression, offset of its source)


def is_template(text: str) -> bool:
    """Whether a string holds any `{{` (else it is plain text, used as is)."""
    return isinstance(text, str) and "{{" in text


class CompiledTemplate:
    """A compiled template: literal text and compiled expressions, with their free names."""

    __slots__ = ("_segments", "_single", "is_single_expression", "name_positions", "names", "source")

    def __init__(self, source: str, segments: tuple[Segment, ...]) -> None:
        self.source = source
        self._segments = segments
        expressions = [s for s in segments if not isinstance(s, str)]
        texts = [s for s in segments if isinstance(s, str)]
        self.is_single_expression = len(expressions) == 1 and all(not t.strip() for t in texts)
        self._single = expressions[0] if self.is_single_expression else None
        self.name_positions = tuple((name, offset + pos) for expr, offset in expressions
                                    for name, pos in expr.name_positions)
        self.names = frozenset(name for name, _ in self.name_positions)

    def evaluate(self, scope: Mapping[str, Any], limits: Limits | None = None) -> Any:
        """The raw value of a single-expression template, else the rendered string."""
        if self._single is not None:
            expr, offset = self._single
            try:
                return expr.evaluate(scope, limits)
            except ExpressionError as e:
                raise _shifted(e, self.source, offset) from None
        return self.render(scope, limits)

    def render(self, scope: Mapping[str, Any], limits: Limits | None = None) -> str:
        """The template as a string: values printed as JavaScript would (null as "")."""
        segments = self._segments
        if len(segments) == 1 and type(segments[0]) is str:
            return segments[0]
        ctx = EvalContext(limits or DEFAULT_LIMITS)
        parts: list[str] = []
        total = 0
        offset = 0
        try:
            for segment in segments:
                if isinstance(segment, str):
                    piece = segment
                else:
                    expr, offset = segment
                    value = expr.run(scope, ctx)
                    t = type(value)
                    if t is str:
                        piece = value
                    elif t is int and -_BIG_INT < value < _BIG_INT:
                        piece = str(value)
                    elif t is float:
                        piece = number_to_string(value)
                    elif value is None:
                        piece = ""
                    else:
                        piece = template_string_limited(value, ctx)
                total += len(piece)
                if total > ctx.max_string:
                    raise ExpressionError(f"rendered template would be longer than {ctx.max_string:,} "
                                          "characters", code="EXPR_EVAL_ERROR", position=0)
                parts.append(piece)
        except ExpressionError as e:
            raise _shifted(e, self.source, offset) from None
        return "".join(parts)

    def segment_values(self, scope: Mapping[str, Any], mentioning: str) -> list[Any]:
        """The values of the `{{ }}` segments whose source mentions `mentioning` (what a template
        made of a secret: its text is to be redacted, the literal text around it is not)."""
        return [expr.evaluate(scope) for expr in (s[0] for s in self._segments if not isinstance(s, str))
                if mentioning in expr.source]

    def __repr__(self) -> str:
        return f"CompiledTemplate({self.source!r})"


def _shifted(e: ExpressionError, source: str, offset: int) -> ExpressionError:
    """The error with its position moved from the segment's source to the template's."""
    e.position = offset + (e.position or 0)
    e.expression = source
    return e


def compile_template(source: str, *, node_ids: Iterable[str] = ()) -> CompiledTemplate:
    """Compiles a template (cached); raises ExpressionError for an unclosed `{{` or a bad segment."""
    if not isinstance(source, str):
        raise ExpressionError(f"a template must be a string, got {type(source).__name__}",
                              code="EXPR_TYPE_ERROR", position=0)
    return _compile_template(source, hyphen_ids_in(source, node_ids))


@lru_cache(maxsize=4096)
def _compile_template(source: str, node_ids: frozenset[str]) -> CompiledTemplate:
    if "{{" not in source:
        return CompiledTemplate(source, (source,))
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"template is too long ({len(source):,} characters; the limit is "
                              f"{MAX_SOURCE_LENGTH:,})", code="EXPR_PARSE_ERROR", expression=source,
                              position=MAX_SOURCE_LENGTH)
    segments: list[Segment] = []
    pos = 0
    while True:
        start = source.find("{{", pos)
        if start == -1:
            if pos < len(source):
                segments.append(source[pos:])
            break
        if start > pos:
            segments.append(source[pos:start])
        end = find_close(source, start + 2)
        if end == -1:
            raise ExpressionError("unclosed '{{': expected '}}' to end the expression",
                                  code="EXPR_PARSE_ERROR", expression=source, position=start)
        inner = source[start + 2:end]
        try:
            expr = compile_expression(inner, node_ids=node_ids)
        except ExpressionError as e:
            raise _shifted(e, source, start + 2) from None
        segments.append((expr, start + 2))
        pos = end + 2
    return CompiledTemplate(source, tuple(segments))


def check_template(source: str, *, node_ids: Iterable[str] = ()) -> tuple[list[ExpressionError],
                                                                           tuple[tuple[str, int], ...]]:
    """Every problem of a template, not only the first: each `{{ }}` segment is compiled on its
    own, so one bad segment leaves the others' names to check (`validate` reports them all).
    Returns the errors (positions in the whole template) and the names of the good segments
    with their offsets."""
    ids = hyphen_ids_in(source, node_ids)
    errors: list[ExpressionError] = []
    names: list[tuple[str, int]] = []
    pos = 0
    while (start := source.find("{{", pos)) != -1:
        end = find_close(source, start + 2)
        if end == -1:
            errors.append(ExpressionError("unclosed '{{': expected '}}' to end the expression",
                                          code="EXPR_PARSE_ERROR", expression=source, position=start))
            break
        try:
            expr = compile_expression(source[start + 2:end], node_ids=ids)
        except ExpressionError as e:
            errors.append(_shifted(e, source, start + 2))
        else:
            names += [(name, start + 2 + at) for name, at in expr.name_positions]
        pos = end + 2
    if not errors and len(source) > MAX_SOURCE_LENGTH:
        try:
            compile_template(source, node_ids=node_ids)
        except ExpressionError as e:
            errors.append(e)
    return errors, tuple(names)


def find_close(source: str, i: int) -> int:
    """The offset of the `}}` that ends the segment starting at i, or -1 when there is none."""
    n = len(source)
    depth = 0
    while i < n:
        ch = source[i]
        if ch == "'" or ch == '"':
            j = i + 1
            while j < n and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            if j >= n:  # unterminated string: let the expression parser report it
                return source.find("}}", i)
            i = j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                if source.startswith("}}", i):
                    return i
            else:
                depth -= 1
        i += 1
    return -1


__all__ = ["CompiledTemplate", "check_template", "compile_template", "is_template", "to_template_string"]

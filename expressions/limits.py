"""Resource limits of one evaluation (docs/language.md#expression-rules, rule 44).

An expression comes from a workflow file, so it must not be able to hang the engine or
exhaust its memory. `Limits` is the policy; `EvalContext` is the per-evaluation meter that
built-ins and callbacks charge. Steps are counted where work can multiply (callbacks of
higher-order functions, big allocations inside built-ins), not per AST node, so that plain
expressions evaluate at full speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flowscript.errors import ExpressionError

MAX_SOURCE_LENGTH = 100_000  # characters of one expression or template
MAX_NESTING = 64  # brackets, parentheses, unary/ternary/** chains inside one another
MAX_TREE_DEPTH = 256  # depth of the syntax tree (long `a + b + c ...` chains count too)

# Cost model. Steps measure work: one callback call is 1 step; building a string costs one
# step per STRING_CHARS_PER_STEP characters and an array one per ARRAY_ELEMENTS_PER_STEP
# items. Memory is bounded separately: every string (array) built from LARGE_STRING
# (LARGE_ARRAY) up counts toward a total per evaluation, so a loop cannot keep thousands of
# big values alive. The price: a string grown with + inside reduce stops at ~100 KB (the
# copies count); join(map(...)) builds it once and has no such limit.
STRING_CHARS_PER_STEP = 1024
ARRAY_ELEMENTS_PER_STEP = 4
LARGE_STRING = 65_536
LARGE_ARRAY = 65_536


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps for one `evaluate`/`render` call; the defaults are those of docs/language.md#expression-rules (rule 44)."""

    max_string_length: int = 10_000_000
    max_array_length: int = 1_000_000
    max_steps: int = 1_000_000
    max_built_chars: int = 40_000_000  # total of the large strings built by one evaluation
    max_built_items: int = 4_000_000  # total of the large arrays built by one evaluation
    max_seconds: float = 30.0  # wall clock, checked every 1024 steps and by regex calls
    regex_timeout: float = 1.0  # seconds per regular-expression call


DEFAULT_LIMITS = Limits()


class EvalContext:
    """The meter of one evaluation: counts steps and checks sizes before allocating."""

    __slots__ = ("built_chars", "built_items", "deadline", "limits", "max_array", "max_steps", "max_string",
                 "steps")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.steps = 0
        self.max_steps = limits.max_steps
        self.max_string = limits.max_string_length
        self.max_array = limits.max_array_length
        self.deadline = time.monotonic() + limits.max_seconds
        self.built_chars = 0
        self.built_items = 0

    def step(self, n: int = 1) -> None:
        """Charges n steps; fails once the budget or the time limit is exceeded."""
        before = self.steps
        self.steps = before + n
        if self.steps > self.max_steps or (before >> 10) != (self.steps >> 10):
            self.check()

    def check(self) -> None:
        """Raises when the step budget or the wall-clock limit is exhausted."""
        if self.steps > self.max_steps:
            raise ExpressionError(
                f"evaluation exceeded its budget of {self.max_steps:,} steps",
                code="EXPR_EVAL_ERROR",
                hint="the expression does too much work: nested loops over big lists, or a long string "
                "built with + inside reduce (use join(map(...)) instead)",
            )
        if time.monotonic() > self.deadline:
            raise ExpressionError(
                f"evaluation exceeded its time limit of {self.limits.max_seconds:g} s",
                code="EXPR_EVAL_ERROR",
            )

    def remaining_seconds(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def check_string(self, length: int, what: str = "string") -> None:
        """Refuses to build a string of `length` characters when it is over a limit."""
        if length > self.max_string:
            raise ExpressionError(
                f"{what} would be {length:,} characters long, over the limit of {self.max_string:,}",
                code="EXPR_EVAL_ERROR",
            )
        if length >= LARGE_STRING:
            self.built_chars += length
            if self.built_chars > self.limits.max_built_chars:
                raise ExpressionError(
                    f"evaluation built more than {self.limits.max_built_chars:,} characters of large strings",
                    code="EXPR_EVAL_ERROR",
                    hint="build long text once with join(map(...)) rather than with + in a loop",
                )
        if length >= STRING_CHARS_PER_STEP:
            self.step(length // STRING_CHARS_PER_STEP)

    def check_array(self, length: int, what: str = "array") -> None:
        """Refuses to build a list of `length` elements when it is over a limit."""
        if length > self.max_array:
            raise ExpressionError(
                f"{what} would have {length:,} elements, over the limit of {self.max_array:,}",
                code="EXPR_EVAL_ERROR",
            )
        if length >= LARGE_ARRAY:
            self.built_items += length
            if self.built_items > self.limits.max_built_items:
                raise ExpressionError(
                    f"evaluation built more than {self.limits.max_built_items:,} items of large arrays",
                    code="EXPR_EVAL_ERROR",
                )
        if length >= ARRAY_ELEMENTS_PER_STEP:
            self.step(length // ARRAY_ELEMENTS_PER_STEP)

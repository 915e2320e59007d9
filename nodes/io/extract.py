"""The http source's `extract`: a JMESPath expression applied to the parsed answer.

The expression is compiled before the request is sent, so a typo fails at once (a
config error, RUN_INVALID_CONFIG) instead of after a round trip; an expression that fails
on the data it gets (a function given the wrong type) is RUN_EXTRACT_ERROR.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

from flowscript.errors import NodeError
from flowscript.nodes.io.config_values import config_error

EXTRACT_ERROR = "RUN_EXTRACT_ERROR"


@lru_cache(maxsize=512)
def _compile(expression: str) -> jmespath.parser.ParsedResult:
    return jmespath.compile(expression)


def compile_extract(expression: Any) -> jmespath.parser.ParsedResult | None:
    """The compiled expression, None when there is none; a syntax error names the column."""
    if expression is None or (isinstance(expression, str) and not expression.strip()):
        return None
    if not isinstance(expression, str):
        raise config_error("extract", f"expected a JMESPath expression, got {type(expression).__name__}")
    try:
        return _compile(expression.strip())
    except jmespath.exceptions.ParseError as e:
        column = (e.lex_position or 0) + 1
        raise config_error("extract", f"invalid JMESPath expression {expression.strip()!r} at column "
                           f"{column}: {e.msg}", hint="see https://jmespath.org for the syntax") from None
    except jmespath.exceptions.JMESPathError as e:
        raise config_error("extract", f"invalid JMESPath expression {expression.strip()!r}: {e}") from None


def apply_extract(compiled: jmespath.parser.ParsedResult | None, value: Any) -> Any:
    """`value` itself without an expression, else what the expression selects (None if nothing)."""
    if compiled is None:
        return value
    try:
        return compiled.search(value)
    except jmespath.exceptions.JMESPathError as e:
        raise NodeError(f"extract {compiled.expression!r} failed: {e}", code=EXTRACT_ERROR) from None

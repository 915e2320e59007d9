"""The http source's `extract`: a JMESPath expression applied to the parsed answer.

Extracts are JMESPath Community expressions, as the reference engine evaluates them (the
`jmespath-community` package, which installs as the `jmespath` module): `$` is the root
(`$.data[*]`), `let $x = ... in ...` binds names, and its functions are the larger set
(`items`, `group_by`, `find_first`, `upper`...). The expression is compiled before the
request is sent, so a typo fails at once (a config error, RUN_INVALID_CONFIG) instead of
after a round trip; an expression that fails on the data it gets (a function given the
wrong type) is RUN_EXTRACT_ERROR.
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
                           f"{column}: {e.msg}",
                           hint="extracts are JMESPath Community expressions: see https://jmespath.site") from None
    except jmespath.exceptions.JMESPathError as e:
        raise config_error("extract", f"invalid JMESPath expression {expression.strip()!r}: {e}") from None


def apply_extract(compiled: jmespath.parser.ParsedResult | None, value: Any) -> Any:
    """`value` itself without an expression, else what the expression selects (None if nothing)."""
    if compiled is None:
        return value
    try:
        return _plain(compiled.search(value))
    except jmespath.exceptions.JMESPathError as e:
        raise NodeError(f"extract {compiled.expression!r} failed: {e}", code=EXTRACT_ERROR) from None


def _plain(value: Any) -> Any:
    """Plain dicts and lists (some functions, `group_by`, answer an OrderedDict)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value

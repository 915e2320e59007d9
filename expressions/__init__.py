"""FlowScript expressions and templates: a safe subset of JavaScript expressions.

    compile_expression("upper($item.name)", node_ids=ids).evaluate(scope)
    compile_template("Hello {{ $config.who }}").render(scope)

Sources are parsed by a hand-written parser (lexer.py, parser.py), compiled once into
Python closures (compiler.py) and cached. Values follow JavaScript's rules (values.py,
operators.py, printing.py); built-in functions live in functions/. Every error is an
ExpressionError with a code and a 0-based position. This package never imports prefect.
"""

from flowscript.expressions.compiled import CompiledExpression, clear_cache, compile_expression
from flowscript.expressions.functions import FUNCTIONS, BuiltinFunction
from flowscript.expressions.limits import Limits
from flowscript.expressions.printing import to_json, to_template_string
from flowscript.expressions.templates import CompiledTemplate, check_template, compile_template, is_template
from flowscript.expressions.values import truthy

__all__ = [
    "FUNCTIONS",
    "BuiltinFunction",
    "CompiledExpression",
    "CompiledTemplate",
    "Limits",
    "check_template",
    "clear_cache",
    "compile_expression",
    "compile_template",
    "is_template",
    "to_json",
    "to_template_string",
    "truthy",
]

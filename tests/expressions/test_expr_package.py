"""The package's public surface: what the rest of the project codes against."""

from __future__ import annotations

import inspect
import subprocess
import sys

import flowscript.expressions as expressions
from flowscript.expressions import CompiledExpression, CompiledTemplate, Limits


def test_public_api() -> None:
    for name in ("compile_expression", "compile_template", "is_template", "CompiledExpression",
                 "CompiledTemplate", "Limits", "FUNCTIONS", "truthy", "to_template_string", "to_json"):
        assert name in expressions.__all__
    for fn in (expressions.compile_expression, expressions.compile_template):
        node_ids = inspect.signature(fn).parameters["node_ids"]
        assert node_ids.kind is inspect.Parameter.KEYWORD_ONLY and node_ids.default == ()
    assert isinstance(expressions.compile_expression("1"), CompiledExpression)
    assert isinstance(expressions.compile_template("1"), CompiledTemplate)


def test_default_limits_are_the_spec_ones() -> None:
    limits = Limits()
    assert limits.max_string_length == 10_000_000
    assert limits.max_array_length == 1_000_000
    assert limits.max_steps > 0


def test_the_package_never_imports_prefect() -> None:
    code = "import sys, flowscript.expressions; sys.exit('prefect' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

"""A workflow's config fields as Prefect flow parameters: typed, with defaults and
descriptions, so the Prefect UI draws a form (docs/prefect.md#the-mapping).

Prefect reads a flow's parameters from its function's signature and the descriptions from
the `Args:` section of its docstring; both are generated here from the frontmatter.
"""

from __future__ import annotations

import inspect
import keyword
from typing import Any

from flowscript.compiler.ast import ConfigField, WorkflowMeta
from flowscript.errors import ValidationError

INPUT_PARAMETER = "input"
_TYPES: dict[str, Any] = {"string": str, "number": float, "boolean": bool, "object": dict[str, Any],
                          "array": list[Any]}


def flow_signature(meta: WorkflowMeta) -> inspect.Signature:
    parameters = [_parameter(name, field) for name, field in meta.config.items()]
    parameters.append(inspect.Parameter(INPUT_PARAMETER, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=Any))
    return inspect.Signature(parameters)


def flow_docstring(meta: WorkflowMeta) -> str:
    lines = [meta.description or f"FlowScript workflow {meta.name}.", "", "Args:"]
    for name, field in meta.config.items():
        lines.append(f"    {name}: {field.description or field.type}")
    lines.append(f"    {INPUT_PARAMETER}: The run's input (JSON): what top-level nodes without `input` receive.")
    return "\n".join(lines)


def _parameter(name: str, field: ConfigField) -> inspect.Parameter:
    if not name.isidentifier() or keyword.iskeyword(name) or name == INPUT_PARAMETER:
        raise ValidationError(f"config field '{name}' cannot be a Prefect flow parameter",
                              code="VALID_INVALID_FIELD_TYPE",
                              hint="name config fields like Python identifiers (letters, digits, _), not 'input'")
    annotation = _TYPES[field.type]
    if field.default is not None:
        default: Any = field.default
    elif field.required:
        default = inspect.Parameter.empty
    else:
        default, annotation = None, annotation | None
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

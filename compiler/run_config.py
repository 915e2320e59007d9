"""A run's config: the declared defaults overridden by the caller's values, type-checked.

Values from the command line (`-c key=value`) arrive as text: a string field takes the
text as is; number, boolean, object and array fields read it as JSON. Values from an API
or a Prefect parameter form arrive typed and are only checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flowscript.compiler.ast import ConfigField, Workflow, WorkflowMeta
from flowscript.errors import MultipleErrors, SourceLocation, ValidationError

_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """`["a=1", "b=x=y"]` -> `{"a": "1", "b": "x=y"}` (split on the first `=`)."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"'{pair}' is not key=value", code="VALID_INVALID_FIELD_TYPE",
                                  hint="write -c name=value (JSON values accepted: -c n=3 -c tags='[\"a\"]')")
        result[key.strip()] = value
    return result


def matches_type(field: ConfigField, value: Any) -> bool:
    return _TYPE_CHECKS[field.type](value)


def resolve_config(meta: WorkflowMeta | Workflow, given: Mapping[str, Any], *, from_text: bool = False,
                   base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults (or `base`, a resumed run's config) overridden by `given`; raises on unknown keys,
    wrong types and missing required values. Given the whole Workflow, each error carries the
    file:line:column of the field's declaration in the frontmatter."""
    workflow = meta if isinstance(meta, Workflow) else None
    meta = meta.meta if isinstance(meta, Workflow) else meta
    declared = meta.config

    def where(key: str) -> SourceLocation | None:
        return declared_at(workflow, f"config.{key}", "config")

    errors: list[ValidationError] = []
    for key in given:
        if key not in declared:
            names = ", ".join(declared) or "(none)"
            errors.append(ValidationError(f"'{key}' is not a config field of workflow '{meta.name}'",
                                          code="VALID_INVALID_FIELD_TYPE", hint=f"declared fields: {names}",
                                          location=declared_at(workflow, "config", "name")))
    config: dict[str, Any] = {}
    for key, field in declared.items():
        if key in given:
            value = _from_text(field, given[key]) if from_text else given[key]
            if not matches_type(field, value):
                errors.append(ValidationError(
                    f"config field '{key}' must be a {field.type}, got {json.dumps(given[key])}",
                    code="VALID_TYPE_MISMATCH", hint=_type_hint(field), location=where(key)))
                continue
            config[key] = value
        elif base is not None and key in base:
            config[key] = base[key]
        elif field.default is not None:
            config[key] = field.default
        elif field.required:
            errors.append(ValidationError(f"config field '{key}' is required and has no value",
                                          code="VALID_MISSING_REQUIRED_FIELD", hint=f"pass -c {key}=...",
                                          location=where(key)))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MultipleErrors(list(errors))
    return config


def values_from_text(meta: WorkflowMeta, given: Mapping[str, str]) -> dict[str, Any]:
    """Values given as text (`--param key=value` of a deployment), read and checked as `-c`
    values are, without the defaults or required fields of a run; raises on unknown keys and
    wrong types."""
    errors: list[ValidationError] = []
    values: dict[str, Any] = {}
    for key, text in given.items():
        field = meta.config.get(key)
        if field is None:
            names = ", ".join(meta.config) or "(none)"
            errors.append(ValidationError(f"'{key}' is not a config field of workflow '{meta.name}'",
                                          code="VALID_INVALID_FIELD_TYPE", hint=f"declared fields: {names}"))
            continue
        value = _from_text(field, text)
        if not matches_type(field, value):
            errors.append(ValidationError(f"config field '{key}' must be a {field.type}, got {json.dumps(text)}",
                                          code="VALID_TYPE_MISMATCH", hint=_type_hint(field)))
            continue
        values[key] = value
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MultipleErrors(list(errors))
    return values


def declared_at(workflow: Workflow | None, *keys: str) -> SourceLocation | None:
    """Where the first of these frontmatter keys (`config.count`, `secrets.API_KEY`) is declared."""
    if workflow is None:
        return None
    for key in keys:
        found = workflow.meta_locations.get(key)
        if found is not None:
            return SourceLocation(found.line, found.column, workflow.path)
    return None


def _from_text(field: ConfigField, text: Any) -> Any:
    if field.type == "string" or not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # stays a string, so the type check names the field


def _type_hint(field: ConfigField) -> str:
    examples = {"number": "3 or 2.5", "boolean": "true or false", "object": '{"a": 1}', "array": '["a", "b"]',
                "string": "any text"}
    return f"a {field.type} looks like {examples[field.type]}"

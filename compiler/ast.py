"""The workflow AST: what a .flow.md file says, as plain dataclasses.

The frontmatter's models live here; the nodes' models live with their kinds (nodes/). The
parser builds a Workflow; the validator, the planner, both backends and editors (through
`workflow_json_schema()`, made by pydantic on demand) read it. It holds strings as
written: expressions and templates are compiled when checked and run, numeric attributes
may be templates and stay strings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from flowscript.nodes.base import Node
from flowscript.nodes.data import DataNode
from flowscript.syntax.source import Location

ConfigType = Literal["string", "number", "boolean", "object", "array"]
TriggerType = Literal["manual", "webhook", "schedule"]


@dataclass(kw_only=True, slots=True)
class ConfigField:
    """A typed run parameter declared in the frontmatter's `config` (keys beyond these in `extra`)."""

    type: ConfigType = "string"
    default: Any = None
    description: str | None = None
    required: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class Trigger:
    """How runs start: manual, a schedule or a webhook (frontmatter `trigger`)."""

    type: TriggerType = "manual"
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class WorkflowMeta:
    """The frontmatter, checked: name, version, trigger, config fields, secrets, schemas."""

    name: str
    version: str
    description: str | None = None
    trigger: Trigger = field(default_factory=Trigger)
    config: dict[str, ConfigField] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    schemas: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class Workflow:
    """A parsed .flow.md file."""

    path: str | None = None
    source_sha256: str = ""
    meta: WorkflowMeta
    meta_locations: dict[str, Location] = field(default_factory=dict)  # frontmatter key -> where
    body_location: Location | None = None  # the `<workflow>` element
    nodes: list[Node] = field(default_factory=list)


# ------------------------------------------------------------------ JSON

_RENAMED = {"else_": "else", "break_": "break"}  # fields whose names are Python keywords


def to_json(value: Any) -> Any:
    """The AST as JSON data (`flowscript parse`): every node with its `kind` (and data `type`),
    fields by their written names, None left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {}
        if isinstance(value, Node):
            data["kind"] = value.kind
            if isinstance(value, DataNode):
                data["type"] = value.type
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None:
                continue
            if isinstance(value, ConfigField) and f.name == "extra":
                data.update({k: to_json(v) for k, v in item.items()})
                continue
            data[_RENAMED.get(f.name, f.name)] = to_json(item)
        return data
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def workflow_json_schema() -> dict[str, Any]:
    """JSON Schema of the AST (`flowscript parse` output), for editors and tools."""
    from flowscript.compiler.schema import workflow_json_schema as build

    return build()

"""The JSON Schema of the AST (`flowscript parse --schema`), for editors and tools.

Made by pydantic from the dataclasses when asked (pydantic is not imported to read or run a
workflow). A body holds any registered node kind (or a `<break/>`), told apart by `kind`.
"""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import _RENAMED, Workflow
from flowscript.nodes.data import DataNode
from flowscript.nodes.registry import KINDS


def workflow_json_schema() -> dict[str, Any]:
    from pydantic import TypeAdapter

    schema = TypeAdapter(Workflow).json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    variants = []
    for kind in (k.load() for k in KINDS):
        sub = TypeAdapter(kind).json_schema()
        defs.update(sub.pop("$defs", {}))
        properties = {"kind": {"const": kind.kind}}
        if issubclass(kind, DataNode):
            properties["type"] = {"const": kind.type}
        properties.update({_RENAMED.get(k, k): v for k, v in sub.get("properties", {}).items()})
        sub["properties"] = properties
        sub["required"] = ["kind", *(_RENAMED.get(k, k) for k in sub.get("required", []))]
        name = f"{kind.__name__}Node" if not kind.__name__.endswith("Node") else kind.__name__
        defs[name] = sub
        variants.append({"$ref": f"#/$defs/{name}"})
    defs["Node"] = {"oneOf": variants, "description": "a node of any registered kind, told apart by kind (and type)"}
    return schema

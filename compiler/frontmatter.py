"""The frontmatter of a .flow.md file: its split from the body, its YAML, its metadata.

Metadata rules this implementation chose (docs/language.md#the-file-and-its-frontmatter):

- A config entry that is not a mapping is a shorthand: `count: 5` declares a field whose
  default is 5 and whose type is inferred (bool -> boolean, int/float -> number,
  str -> string, list -> array, null -> string without a default).
- A YAML date or timestamp used as a value becomes its ISO 8601 string.
- `version` written as a YAML number is taken as written (`1.10` stays "1.10").
- Unknown top-level keys are documentation and are ignored (their locations are kept).
- A key given twice at the top level or inside `config` is an error (YAML would keep the
  last one silently).
- The YAML is read as every YAML of the project is (syntax/yaml_text.py): anchors and
  aliases are allowed, but a recursive alias, aliases that expand to more than 100,000
  values ("billion laughs") and flow collections nested more than 100 deep are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flowscript.compiler.ast import ConfigField, ConfigType, Trigger, WorkflowMeta
from flowscript.errors import (
    FlowScriptError,
)
from flowscript.syntax.source import Location, Source, did_you_mean, hint_with
from flowscript.syntax.yaml_text import UnsafeYaml, load_yaml_text

TRIGGER_TYPES = ("manual", "webhook", "schedule")
CONFIG_TYPES: tuple[ConfigType, ...] = ("string", "number", "boolean", "object", "array")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ------------------------------------------------------------------ splitting


@dataclass(frozen=True, slots=True)
class Split:
    """Offsets of the YAML between the two `---` lines and of the body after them."""

    yaml_start: int
    yaml_end: int
    body_start: int


def split_frontmatter(source: Source) -> Split:
    """Finds the `---` fences; a missing or unclosed frontmatter is fatal."""
    text = source.text
    first_end = text.find("\n")
    first_line = text if first_end < 0 else text[:first_end]
    if first_line.rstrip() != "---":
        raise source.error("PARSE_MISSING_FRONTMATTER", "the file must start with a frontmatter line '---'",
                           0,
                           hint="start the file with '---', then 'name:' and 'version:' lines, then '---'")
    start = pos = first_end + 1
    while first_end >= 0 and pos <= len(text):
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.rstrip() == "---":
            return Split(start, pos, len(text) if end < 0 else end + 1)
        if end < 0:
            break
        pos = end + 1
    raise source.error("PARSE_MISSING_FRONTMATTER", "the frontmatter is never closed", 0,
                       hint="end the frontmatter with a line '---' before the Markdown and the <workflow>")


# ------------------------------------------------------------------ YAML


def load_yaml(source: Source, split: Split) -> tuple[Node | None, Any]:
    """The composed node tree (for locations) and the safely constructed data, read within the
    bounds every YAML of the project is read in (syntax/yaml_text.py)."""
    try:
        return load_yaml_text(source.text[split.yaml_start:split.yaml_end])
    except UnsafeYaml as e:
        raise source.error("PARSE_YAML_INVALID", f"the frontmatter YAML {e.problem}",
                           split.yaml_start + e.offset) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        offset = split.yaml_start + (mark.index if mark is not None else 0)
        message = " ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        raise source.error("PARSE_YAML_INVALID", f"invalid YAML in the frontmatter: {message}",
                           offset) from None
    except yaml.reader.ReaderError as e:
        raise source.error("PARSE_YAML_INVALID", f"invalid YAML in the frontmatter: {e.reason} "
                           f"(character {e.character!r})", split.yaml_start + e.position) from None
    except FlowScriptError:
        raise
    except RecursionError:
        raise source.error("PARSE_YAML_INVALID", "the frontmatter YAML is nested too deeply",
                           split.yaml_start) from None
    except Exception as e:  # the YAML library's own failures (bad dates, huge ints...) are bad input
        raise source.error("PARSE_YAML_INVALID", f"invalid YAML in the frontmatter: {e}",
                           split.yaml_start) from None


# ------------------------------------------------------------------ metadata


@dataclass
class _Meta:
    """Reads the metadata mapping, reporting each problem and keeping going."""

    source: Source
    split: Split
    locations: dict[str, Location] = field(default_factory=dict)

    def at(self, node: Node | None) -> int:
        return self.split.yaml_start + (node.start_mark.index if node is not None else 0)

    def report(self, code: str, message: str, node: Node | None, hint: str | None = None) -> None:
        self.source.report(code, message, self.at(node) if node is not None else 0, hint)

    def entries(self, node: Node | None, prefix: str) -> dict[str, tuple[Node, Node]]:
        """key -> (key node, value node) of a mapping node; records locations, reports repeats."""
        found: dict[str, tuple[Node, Node]] = {}
        if not isinstance(node, MappingNode):
            return found
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            name = key_node.value
            if name in found:
                self.report("VALID_INVALID_FIELD_TYPE", f"frontmatter key '{prefix}{name}' is given twice",
                            key_node, hint="keep one of them")
            found[name] = (key_node, value_node)
            self.locations.setdefault(prefix + name, self.source.location(self.at(key_node)))
        return found


def read_metadata(source: Source, split: Split) -> tuple[WorkflowMeta, dict[str, Location]]:
    """The checked WorkflowMeta (placeholders where a problem was reported) and key locations."""
    node, data = load_yaml(source, split)
    meta = _Meta(source, split)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        meta.report("VALID_INVALID_FIELD_TYPE",
                    "the frontmatter must be a mapping of keys (name: ..., version: ...)", node)
        return WorkflowMeta(name="unnamed", version="0.0"), meta.locations
    nodes = meta.entries(node, "")

    def value_node(key: str) -> Node | None:
        return nodes[key][1] if key in nodes else None

    name = data.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        meta.report("VALID_MISSING_REQUIRED_FIELD", "the frontmatter needs a non-empty 'name'",
                    value_node("name"),
                    hint="add a line such as 'name: my-workflow' (it is the workflow id)")
        name = "unnamed"
    elif not isinstance(name, str):
        meta.report("VALID_INVALID_FIELD_TYPE", f"'name' must be a string, not {_type_name(name)}",
                    value_node("name"), hint="quote it: name: \"...\"")
        name = "unnamed"
    version = _version(meta, data.get("version"), value_node("version"))
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        meta.report("VALID_INVALID_FIELD_TYPE",
                    f"'description' must be a string, not {_type_name(description)}",
                    value_node("description"))
        description = None
    result = WorkflowMeta(
        name=name,
        version=version,
        description=description,
        trigger=_trigger(meta, data.get("trigger"), value_node("trigger")),
        config=_config(meta, data.get("config"), value_node("config")),
        secrets=_secrets(meta, data.get("secrets"), value_node("secrets")),
        schemas=_schemas(meta, data.get("schemas"), value_node("schemas")),
    )
    return result, meta.locations


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _version(meta: _Meta, value: Any, node: Node | None) -> str:
    if value is None:
        meta.report("VALID_MISSING_REQUIRED_FIELD", "the frontmatter needs a 'version'", node,
                    hint="add a line such as 'version: 1.0.0' (X.Y or X.Y.Z)")
        return "0.0"
    text = node.value if isinstance(node, ScalarNode) and isinstance(value, int | float) else value
    if isinstance(value, bool) or not isinstance(text, str) or not _VERSION.fullmatch(text):
        meta.report("VALID_INVALID_FIELD_TYPE", f"version {value!r} is not X.Y or X.Y.Z", node,
                    hint="write it like 1.0 or 1.2.3")
        return "0.0"
    return text


def _trigger(meta: _Meta, value: Any, node: Node | None) -> Trigger:
    if value is None:
        return Trigger()
    if isinstance(value, str):
        return Trigger(type=_trigger_type(meta, value, node))
    if not isinstance(value, dict):
        meta.report("VALID_INVALID_FIELD_TYPE",
                    f"trigger must be a name or a mapping, not {_type_name(value)}",
                    node, hint=f"one of {', '.join(TRIGGER_TYPES)}, or {{type: schedule, config: {{...}}}}")
        return Trigger()
    entries = meta.entries(node, "trigger.")
    for key in value:
        if key not in ("type", "config"):
            where = entries[key][0] if isinstance(key, str) and key in entries else node
            meta.report("VALID_INVALID_FIELD_TYPE", f"unknown trigger key {key!r}", where,
                        hint="a trigger mapping has 'type' and 'config'")
    if "type" not in value:
        meta.report("VALID_MISSING_REQUIRED_FIELD", "the trigger mapping needs a 'type'", node,
                    hint=f"one of {', '.join(TRIGGER_TYPES)}")
        return Trigger()
    type_node = entries["type"][1] if "type" in entries else node
    config_node = entries["config"][1] if "config" in entries else node
    kind = value["type"]
    if not isinstance(kind, str):
        meta.report("VALID_INVALID_FIELD_TYPE", f"trigger type must be a name, not {_type_name(kind)}",
                    type_node,
                    hint=f"one of {', '.join(TRIGGER_TYPES)}")
        kind = "manual"
    config = value.get("config")
    if config is None:
        config = {}
    elif not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        meta.report("VALID_INVALID_FIELD_TYPE", "trigger config must be a mapping of names to values",
                    config_node,
                    hint="e.g. config: {cron: \"0 6 * * *\", timezone: Europe/Paris}")
        config = {}
    return Trigger(type=_trigger_type(meta, kind, type_node), config=_plain(config))


def _trigger_type(meta: _Meta, value: str, node: Node | None) -> Any:
    if value in TRIGGER_TYPES:
        return value
    close = did_you_mean(value, TRIGGER_TYPES)
    meta.report("VALID_INVALID_FIELD_TYPE", f"unknown trigger type '{value}'", node,
                hint=hint_with(close, f"allowed: {', '.join(TRIGGER_TYPES)}"))
    return "manual"


def _config(meta: _Meta, value: Any, node: Node | None) -> dict[str, ConfigField]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        meta.report("VALID_INVALID_FIELD_TYPE",
                    f"config must be a mapping of field names, not {_type_name(value)}",
                    node, hint="e.g. config: {count: {type: number, default: 5}}")
        return {}
    entries = meta.entries(node, "config.")
    fields: dict[str, ConfigField] = {}
    for name, spec in value.items():
        key_node, spec_node = entries.get(name, (node, node)) if isinstance(name, str) else (node, node)
        if not isinstance(name, str):
            meta.report("VALID_INVALID_FIELD_TYPE", f"config field name {name!r} must be a string", key_node,
                        hint="quote it (YAML reads on/off/yes/no as booleans)")
            continue
        built = _config_field(meta, name, spec, spec_node)
        if built is not None:
            fields[name] = built
    return fields


def _config_field(meta: _Meta, name: str, spec: Any, node: Node | None) -> ConfigField | None:
    if not isinstance(spec, dict):  # the `count: 5` shorthand
        spec = _plain(spec)
        inferred = _infer_type(spec)
        if inferred is None:
            meta.report("VALID_INVALID_FIELD_TYPE", f"config field '{name}' has a value of unsupported type "
                        f"{_type_name(spec)}", node,
                        hint="use a string, number, boolean, list or a field mapping")
            return None
        return ConfigField(type=inferred, default=spec)
    entries = meta.entries(node, f"config.{name}.")

    def where(key: str) -> Node | None:
        return entries[key][1] if key in entries else node

    if not all(isinstance(k, str) for k in spec):
        meta.report("VALID_INVALID_FIELD_TYPE", f"config field '{name}' has a key that is not a string", node)
        return None
    kind = spec.get("type", "string")
    if kind not in CONFIG_TYPES or not isinstance(kind, str):
        close = did_you_mean(kind, CONFIG_TYPES) if isinstance(kind, str) else None
        meta.report("VALID_INVALID_FIELD_TYPE", f"config field '{name}' has unknown type {kind!r}",
                    where("type"),
                    hint=hint_with(close, f"allowed: {', '.join(CONFIG_TYPES)}"))
        return None
    ok = True
    if not isinstance(spec.get("required", False), bool):
        meta.report("VALID_INVALID_FIELD_TYPE", f"config field '{name}': required must be true or false",
                    where("required"))
        ok = False
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        meta.report("VALID_INVALID_FIELD_TYPE", f"config field '{name}': description must be a string",
                    where("description"))
        ok = False
    default = _plain(spec.get("default"))
    if default is not None and _infer_type(default) != kind:
        meta.report("VALID_TYPE_MISMATCH", f"config field '{name}' is of type {kind} but its default is "
                    f"{_type_name(default)}", where("default"),
                    hint=f"give a {kind} default, or change its type")
        ok = False
    if not ok:
        return None
    extra = {k: _plain(v) for k, v in spec.items() if k not in ("type", "default", "description", "required")}
    required = spec.get("required", False)
    return ConfigField(type=CONFIG_TYPES[CONFIG_TYPES.index(kind)], default=default, description=description,
                       required=required, extra=extra)


def _infer_type(value: Any) -> ConfigType | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str) or value is None:
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings, so every value is plain JSON-like data."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _secrets(meta: _Meta, value: Any, node: Node | None) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        meta.report("VALID_INVALID_FIELD_TYPE", f"secrets must be a list of names, not {_type_name(value)}",
                    node,
                    hint="e.g. secrets: [API_KEY, OPENROUTER_API_KEY]")
        return []
    items = node.value if isinstance(node, SequenceNode) else []
    names: list[str] = []
    for i, name in enumerate(value):
        item = items[i] if i < len(items) else node
        if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
            meta.report("VALID_INVALID_FIELD_TYPE", f"secret name {name!r} is not valid", item,
                        hint="secret names are like environment variables: letters, digits and _")
        elif name not in names:
            names.append(name)
            if item is not None:  # where it is declared: a missing or unusable value is reported there
                meta.locations.setdefault(f"secrets.{name}", meta.source.location(meta.at(item)))
    return names


def _schemas(meta: _Meta, value: Any, node: Node | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        meta.report("VALID_INVALID_FIELD_TYPE", "schemas must be a mapping of names", node)
        return {}
    return _plain(value)

"""The ai transform's `output-schema` shorthand, turned into a JSON schema.

    {summary: string, score: number, tags: string[], items: {a: string}[], flag?: boolean}

Objects list `key: type` fields (separated by commas, semicolons or new lines); `key?`
marks an optional field, every other field is required, and no other key is allowed.
Types: string number integer boolean object array any null, `T[]` for a list of T, a
nested `{...}`, `A | B` for either, parentheses for grouping (`(string | number)[]`).
Keys and type names may be quoted (`{"summary": "string"}`). Text that is already a
JSON schema (a JSON object with `type`, `properties`, `anyOf`...) is taken as it is.
"""

from __future__ import annotations

import json
from typing import Any

from flowscript.errors import NodeError
from flowscript.nodes.io.config_values import INVALID_CONFIG

TYPE_NAMES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "null": {"type": "null"},
    "any": {},
}
ALIASES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array"}
_SCHEMA_KEYS = ("type", "$schema", "properties", "anyOf", "oneOf", "allOf", "$ref", "enum", "const")
_KEY_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_KEY_CHARS = _KEY_START | set("0123456789-")


class SchemaDslError(NodeError):
    """An output-schema that does not read; `position` is the 0-based offset of the problem."""

    default_code = INVALID_CONFIG

    def __init__(self, problem: str, text: str, position: int) -> None:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        where = f"line {line}, column {column}" if "\n" in text else f"column {column}"
        super().__init__(f"output-schema: {problem} at {where}",
                         hint="write e.g. {summary: string, score: number, tags: string[], note?: string}")
        self.problem = problem
        self.text = text
        self.position = position


def schema_from_dsl(text: str) -> dict[str, Any]:
    """The JSON schema for an output-schema text (shorthand, or a JSON schema as it is)."""
    if not isinstance(text, str):
        raise SchemaDslError(f"expected text, got {type(text).__name__}", "", 0)
    as_json = _json_schema(text)
    if as_json is not None:
        return as_json
    return _Parser(text).parse()


def _json_schema(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and any(k in value for k in _SCHEMA_KEYS) else None


def _union(options: list[dict[str, Any]]) -> dict[str, Any]:
    if any(o == {} for o in options):
        return {}
    if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
        return {"type": list(dict.fromkeys(o["type"] for o in options))}
    return {"anyOf": options}


class _Parser:
    """A recursive-descent reader over the text; `pos` is the next character."""

    def __init__(self, text: str, offset: int = 0, source: str | None = None) -> None:
        self.text = text
        self.pos = 0
        self.offset = offset  # where `text` starts inside `source` (for quoted type names)
        self.source = text if source is None else source

    def error(self, problem: str, at: int | None = None) -> SchemaDslError:
        return SchemaDslError(problem, self.source, self.offset + (self.pos if at is None else at))

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self) -> bool:
        """Skips white space; True when a line break was among it."""
        newline = False
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            newline = newline or self.text[self.pos] == "\n"
            self.pos += 1
        return newline

    def found(self) -> str:
        return repr(self.peek()) if self.peek() else "the end"

    def parse(self) -> dict[str, Any]:
        self.skip()
        if not self.peek():
            raise self.error("the schema is empty")
        schema = self.union()
        self.skip()
        if self.peek():
            raise self.error(f"unexpected {self.found()} after the schema")
        return schema

    def union(self) -> dict[str, Any]:
        options = [self.postfix()]
        while True:
            start = self.pos
            self.skip()
            if self.peek() != "|":
                self.pos = start  # the caller looks at the white space (a line break separates fields)
                break
            self.pos += 1
            self.skip()
            options.append(self.postfix())
        return options[0] if len(options) == 1 else _union(options)

    def postfix(self) -> dict[str, Any]:
        schema = self.atom()
        while True:
            start = self.pos
            self.skip()
            if self.peek() != "[":
                self.pos = start
                return schema
            self.pos += 1
            self.skip()
            if self.peek() != "]":
                raise self.error(f"expected ']' after '[', found {self.found()}")
            self.pos += 1
            schema = {"type": "array", "items": schema}

    def atom(self) -> dict[str, Any]:
        char = self.peek()
        if char == "{":
            return self.object()
        if char == "(":
            self.pos += 1
            self.skip()
            inner = self.union()
            self.skip()
            if self.peek() != ")":
                raise self.error(f"expected ')', found {self.found()}")
            self.pos += 1
            return inner
        if char in "\"'":
            start = self.pos
            content = self.quoted()
            return _Parser(content, self.offset + start + 1, self.source).parse()
        if char in _KEY_START:
            start = self.pos
            name = self.word()
            canonical = ALIASES.get(name.lower(), name.lower())
            if canonical not in TYPE_NAMES:
                raise self.error(f"unknown type {name!r} (use {', '.join(TYPE_NAMES)})", start)
            return dict(TYPE_NAMES[canonical])
        raise self.error(f"expected a type, found {self.found()}")

    def word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _KEY_CHARS:
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self) -> str:
        quote, start = self.peek(), self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                char = self.text[self.pos]
            out.append(char)
            self.pos += 1
        raise self.error("unterminated quoted text", start)

    def key(self) -> str:
        char = self.peek()
        if char in "\"'":
            return self.quoted()
        if char and char in _KEY_START:
            return self.word()
        raise self.error(f"expected a field name, found {self.found()}")

    def object(self) -> dict[str, Any]:
        self.pos += 1  # "{"
        properties: dict[str, Any] = {}
        required: list[str] = []
        self.skip()
        while self.peek() != "}":
            start = self.pos
            name = self.key()
            if name in properties:
                raise self.error(f"field {name!r} is given twice", start)
            self.skip()
            optional = self.peek() == "?"
            if optional:
                self.pos += 1
                self.skip()
            if self.peek() != ":":
                raise self.error(f"expected ':' after field {name!r}, found {self.found()}")
            self.pos += 1
            self.skip()
            properties[name] = self.union()
            if not optional:
                required.append(name)
            newline = self.skip()
            if self.peek() in (",", ";"):
                self.pos += 1
                self.skip()
            elif self.peek() != "}" and not newline:
                if not self.peek():
                    raise self.error("missing '}' at the end of the object")
                raise self.error(f"expected ',' or '}}' after field {name!r}, found {self.found()}")
        self.pos += 1  # "}"
        return {"type": "object", "properties": properties, "required": required,
                "additionalProperties": False}

"""Reads a .flow.md file into the workflow AST (compiler/ast.py): the public entry points.

The text is normalised and split (frontmatter.py), the first `<workflow>` element is read
leniently (syntax/xml_reader.py), and each element becomes a node of its kind: this module
finds the kind (nodes/registry.py) and offers it the reading helpers of `NodeReader`; the
kind reads its own attributes and bodies. Syntax problems (missing
frontmatter, YAML, XML, missing body) stop the reading at once; problems of single nodes
or metadata fields are collected, so one run reports them all (as MultipleErrors). Every
error carries `file:line:column` (1-based, columns in characters) and, where it helps, a
hint. Nothing but FlowScriptError leaves this module.

Rules this implementation chose (docs/language.md#rules-this-implementation-chose):
- Attributes of `<workflow>` are ignored; text directly in `<workflow>` or in a body is an error.
- Values of data-node attributes are kept exactly; values of control-node attributes and
  every element text are trimmed (locations point at the first kept character).
- Control-node attributes may also be written as a child element holding text
  (`<condition>`, `<max>`, `<collection>`, `<merge>`, `<prompt>`...), except loop's `break`
  (`<break/>` is the break node). Giving both is an error, as is any repeated field.
- Config child elements take no attributes; `id`, `type` and `input` are attributes only;
  `<fallback>` belongs inside `<on-error>` (the data nodes' rules: nodes/data.py).
- `max`/`timeout` take a whole number >= 0, `concurrency` >= 1, or any text holding `{{`.
- `<branch>` needs at least one `<case>` and `<parallel>` at least one `<branch>`.
- foreach `item`/`index` are names (letters, digits, `_`, `$`) and must differ.
- Elements may nest at most 100 deep.
- `parse_workflow_text` hashes the UTF-8 encoding of the text as given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flowscript.compiler.ast import Workflow
from flowscript.compiler.frontmatter import read_metadata, split_frontmatter
from flowscript.errors import FlowScriptError, ParseError, SourceLocation
from flowscript.nodes import registry
from flowscript.nodes.base import BodyItem, BreakNode, Node, Value
from flowscript.nodes.data import DataNode
from flowscript.syntax.log_section import workflow_fingerprint
from flowscript.syntax.source import Location, Source, did_you_mean, hint_with
from flowscript.syntax.xml_reader import Element, Span, Text, find_workflow, read_element

CONTAINER_PLACES = {"then": "<if>", "else": "<if>", "case": "<branch>", "default": "<branch>"}
_ID = re.compile(r"[^\W\d][\w-]*")  # as the expression lexer reads names: Unicode letters too
_WHOLE = re.compile(r"[0-9]{1,15}")
_SURROGATE = re.compile("[\ud800-\udfff]")


# ------------------------------------------------------------------ entry points
def parse_workflow_text(text: str, path: str | None = None) -> Workflow:
    """Parses .flow.md text; `path` names the file in locations and in Workflow.path."""
    return _parse(text, path, workflow_fingerprint(text))


def parse_workflow_file(path: str | os.PathLike[str]) -> Workflow:
    """Reads and parses a .flow.md file; Workflow.source_sha256 is the hash of its text without the
    execution log section (see log_section.py)."""
    shown = os.fsdecode(path)
    try:
        data = Path(shown).read_bytes()
    except OSError as e:
        raise ParseError(f"cannot read {shown}: {e.strerror or e}", code="PARSE_FILE_UNREADABLE",
                         hint="check the path and the file's permissions",
                         location=SourceLocation(1, 1, shown)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[line_start:e.start].decode("utf-8", "replace")) + 1
        raise ParseError(f"{shown} is not valid UTF-8 text", code="PARSE_FILE_UNREADABLE",
                         hint="save the file as UTF-8",
                         location=SourceLocation(data.count(b"\n", 0, e.start) + 1, column, shown)) from None
    return _parse(text, shown, workflow_fingerprint(text))


def _parse(text: str, path: str | None, sha256: str) -> Workflow:
    source = Source.from_text(text, path)
    try:
        workflow = _read(source, sha256)
    except FlowScriptError as fatal:
        source.problems.append(fatal)
        raise source.combined() from None
    if source.problems:
        raise source.combined()
    return workflow


def _read(source: Source, sha256: str) -> Workflow:
    bad = _SURROGATE.search(source.text)
    if bad:
        raise source.error("PARSE_FILE_UNREADABLE", "the text holds an invalid character (a lone surrogate)",
                           bad.start())
    split = split_frontmatter(source)
    meta, meta_locations = read_metadata(source, split)
    start = find_workflow(source, split.body_start)
    if start is None:
        raise source.error("PARSE_MISSING_BODY", "there is no <workflow> element after the frontmatter",
                           split.body_start, hint="add <workflow> ... </workflow> holding the nodes")
    root = read_element(source, start)
    nodes = _Builder(source).top(root)
    return Workflow(path=source.file, source_sha256=sha256, meta=meta, meta_locations=meta_locations,
                    body_location=source.location(start), nodes=nodes)


# ------------------------------------------------------------------ elements -> nodes


class _Builder:
    """Turns elements into nodes (the `NodeReader` kinds read through); reports each problem
    on the Source and keeps going."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.report = source.report
        self.kinds = registry.TABLE
        self.node_tags = self.kinds.tags

    def loc(self, offset: int) -> Location:
        return self.source.location(offset)

    def column(self, offset: int) -> int:
        return self.source.location(offset).column

    def locations(self, offsets: dict[str, int]) -> dict[str, Location]:
        return {key: self.loc(offset) for key, offset in offsets.items()}

    # ---------------------------------------------------------------- bodies
    def top(self, root: Element) -> list[Node]:
        return [item for item in self.body(root.children, ()) if not isinstance(item, BreakNode)]

    def body(self, children: list[Element | Text], loops: tuple[str, ...]) -> list[BodyItem]:
        items: list[BodyItem] = []
        for child in children:
            if isinstance(child, Text):
                self.no_text(child)
                continue
            item = self.item(child, loops)
            if item is not None:
                items.append(item)
        return items

    def item(self, el: Element, loops: tuple[str, ...]) -> BodyItem | None:
        if el.tag == "break":
            return self.break_node(el, loops)
        if el.tag in self.kinds.data:
            return self.data_node(el)
        kind = self.kinds.control.get(el.tag)
        if kind is not None:
            return kind.load().read(self, el, loops)
        if el.tag in CONTAINER_PLACES:
            self.report("VALID_UNKNOWN_NODE_TYPE", f"<{el.tag}> is only allowed directly inside "
                        f"{CONTAINER_PLACES[el.tag]}", el.offset)
        else:
            self.report("VALID_UNKNOWN_NODE_TYPE", f"unknown element <{el.tag}>", el.offset,
                        hint=did_you_mean(el.tag, self.node_tags, "<{}>")
                        or "a node is one of " + ", ".join(f"<{t}>" for t in self.node_tags))
        return None

    def no_text(self, text: Text) -> None:
        stripped, offset = text.span.trimmed()
        if stripped:
            hint = ("a '<' that does not start a valid tag is text: check the tag's attributes "
                    "(name=\"value\")"
                    if "<" in stripped else "text goes inside an element such as <template>; Markdown goes "
                    "before <workflow> or after </workflow>")
            self.report("PARSE_XML_INVALID", "text outside an element", offset, hint=hint)

    def misplaced(self, el: Element, where: str, hint: str) -> None:
        self.report("VALID_INVALID_FIELD_TYPE", f"<{el.tag}> cannot stand directly inside <{where}>",
                    el.offset, hint=hint)

    def unknown_child(self, el: Element, where: str, allowed: tuple[str, ...]) -> None:
        self.report("VALID_UNKNOWN_NODE_TYPE", f"unknown element <{el.tag}> in <{where}>", el.offset,
                    hint=did_you_mean(el.tag, allowed, "<{}>")
                    or f"<{where}> holds " + ", ".join(f"<{t}>" for t in allowed))

    def container(self, el: Element, loops: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[BodyItem]:
        """The nodes of a `<then>`/`<else>`/`<case>`/`<default>`/parallel `<branch>`."""
        for attr in el.attributes.values():
            if attr.name not in allowed:
                self.report("VALID_INVALID_FIELD_TYPE", f"<{el.tag}> has no attribute '{attr.name}'",
                            attr.offset,
                            hint=f"<{el.tag}> takes " + (", ".join(allowed) if allowed else "no attributes"))
        return self.body(el.children, loops)

    def data_node(self, el: Element) -> Node:
        """A source, transform or sink: its type picks the kind (unknown: reported, the default read)."""
        types = self.kinds.data[el.tag]
        kind = next(iter(types.values()))
        written = el.attributes.get("type")
        if written is not None:
            if written.value.text.strip() in types:
                kind = types[written.value.text.strip()]
            else:
                close = did_you_mean(written.value.text, tuple(types))
                self.report("VALID_UNKNOWN_NODE_TYPE", f"unknown {el.tag} type '{written.value.text}'",
                            written.value.raw_offset(0),
                            hint=hint_with(close, f"{el.tag} types: {', '.join(types)}"))
        data_kind = kind.load()
        assert issubclass(data_kind, DataNode)
        return data_kind.read(self, el)

    # ---------------------------------------------------------------- values
    def checked_text(self, el: Element, attributes_ok: bool = False) -> Span | None:
        """The text of an element that must hold text only (None when it holds elements)."""
        inner = el.elements()
        if inner:
            self.report("PARSE_XML_INVALID",
                        f"<{el.tag}> holds the element <{inner[0].tag}> but takes text only",
                        inner[0].offset, hint="write a mapping as 'key: value' lines; write a literal '<' as "
                        "'&lt;' or follow it with a space, or wrap markup in <![CDATA[ ... ]]>")
            return None
        if not attributes_ok:
            for attr in el.attributes.values():
                self.report("VALID_INVALID_FIELD_TYPE", f"<{el.tag}> takes no attributes", attr.offset,
                            hint="put the value in the element's text")
        return el.text()

    def trimmed(self, el: Element, span: Span) -> Value:
        text, offset = span.trimmed()
        return text, (offset if text else el.offset)

    def fields(self, el: Element, attributes: tuple[str, ...], children: tuple[str, ...]
               ) -> tuple[dict[str, Value], list[Element | Text]]:
        """id, input and a control node's attributes (or same-named text children); the rest."""
        values: dict[str, Value] = {}
        allowed = ("id", "input", *attributes)
        for attr in el.attributes.values():
            if attr.name not in allowed:
                close = did_you_mean(attr.name, allowed)
                self.report("VALID_INVALID_FIELD_TYPE", f"<{el.tag}> has no attribute '{attr.name}'",
                            attr.offset,
                            hint=hint_with(close, f"<{el.tag}> takes {', '.join(allowed)}"))
            elif attr.name in ("id", "input"):
                values[attr.name] = (attr.value.text, attr.value.raw_offset(0))
            else:
                values[attr.name] = attr.value.trimmed()
        rest: list[Element | Text] = []
        for child in el.children:
            if not (isinstance(child, Element) and child.tag in children):
                rest.append(child)
                continue
            span = self.checked_text(child)
            if span is None:
                continue
            if child.tag in values:
                self.report("VALID_INVALID_FIELD_TYPE", f"{child.tag} of <{el.tag}> is given twice",
                            child.offset, hint="give it once: as an attribute or as an element")
                continue
            values[child.tag] = self.trimmed(child, span)
        return values, rest

    def base(self, el: Element, values: dict[str, Value]) -> dict[str, Any]:
        """The NodeBase fields: id (checked), input, location, value locations."""
        if "id" not in values:
            self.report("VALID_MISSING_REQUIRED_FIELD", f"<{el.tag}> needs an id", el.offset,
                        hint='add id="..." (letters, digits, _ and -, starting with a letter or _)')
            node_id = f"_{el.tag}_{el.offset}"
        else:
            node_id, offset = values["id"]
            if not _ID.fullmatch(node_id):
                self.report("VALID_INVALID_FIELD_TYPE", f"id '{node_id}' is not a valid id", offset,
                            hint="ids use letters, digits, _ and -, and start with a letter or _")
        return {
            "id": node_id,
            "input": values["input"][0] if "input" in values else None,
            "location": self.loc(el.offset),
            "value_locations": self.locations({k: offset for k, (_, offset) in values.items()}),
        }

    def required(self, el: Element, values: dict[str, Value], name: str) -> str:
        if name not in values:
            self.report("VALID_MISSING_REQUIRED_FIELD", f"<{el.tag}> needs {name}", el.offset,
                        hint=f'add {name}="..." or a <{name}> element')
            return "false"
        text, offset = values[name]
        if not text:
            self.report("VALID_MISSING_REQUIRED_FIELD", f"{name} of <{el.tag}> is empty", offset)
        return text

    def number(self, el: Element, values: dict[str, Value], name: str, minimum: int) -> str | None:
        """A count or duration: a whole number (at least `minimum`) or a template giving one."""
        if name not in values:
            return None
        text, offset = values[name]
        if "{{" in text or (_WHOLE.fullmatch(text) and (minimum == 0 or text.strip("0"))):
            return text
        self.report("VALID_INVALID_FIELD_TYPE", f"{name} of <{el.tag}> must be a whole number"
                    f"{' of at least 1' if minimum else ''} or a {{{{template}}}}, not '{text}'", offset)
        return None

    def choice(self, el: Element, values: dict[str, Value], name: str,
               allowed: tuple[str, ...]) -> str | None:
        if name not in values:
            return None
        text, offset = values[name]
        if text in allowed:
            return text
        close = did_you_mean(text, allowed)
        self.report("VALID_INVALID_FIELD_TYPE", f"{name} of <{el.tag}> is '{text}'", offset,
                    hint=hint_with(close, f"allowed: {', '.join(allowed)}"))
        return None

    def integer(self, text: str, offset: int, what: str, minimum: int) -> int | None:
        text = text.strip()
        if _WHOLE.fullmatch(text) and int(text) >= minimum:
            return int(text)
        self.report("VALID_INVALID_FIELD_TYPE", f"{what} must be a whole number of at least {minimum}, "
                    f"not '{text}'", offset)
        return None

    def break_node(self, el: Element, loops: tuple[str, ...]) -> BreakNode:
        for attr in el.attributes.values():
            if attr.name != "loop":
                self.report("VALID_INVALID_FIELD_TYPE", f"<break> has no attribute '{attr.name}'",
                            attr.offset,
                            hint="<break/> is not a node; it takes only loop=\"id\" (the loop to leave)")
        for child in el.children:
            if isinstance(child, Element) or child.span.text.strip():
                self.report("VALID_INVALID_FIELD_TYPE", "<break> holds nothing", el.offset,
                            hint='write <break/> or <break loop="id"/>')
                break
        loop = el.attributes.get("loop")
        name, offset = loop.value.trimmed() if loop is not None else (None, el.offset)
        if not loops:
            self.report("VALID_INVALID_FIELD_TYPE", "<break/> outside a loop", el.offset,
                        hint="<break/> leaves an enclosing <loop>, <while> or <foreach>")
        elif name is not None and name not in loops:
            self.report("VALID_UNDEFINED_NODE_REF", f"<break loop=\"{name}\"> names no enclosing loop",
                        offset,
                        hint=did_you_mean(name, loops) or f"enclosing loops: {', '.join(loops)}")
        return BreakNode(loop=name, location=self.loc(el.offset))

"""Reads a .flow.md file into the workflow AST (compiler/ast.py): the public entry points.

The text is normalised and split (frontmatter.py), the first `<workflow>` element is read
leniently (xml_reader.py), and its elements become nodes here. Syntax problems (missing
frontmatter, YAML, XML, missing body) stop the reading at once; problems of single nodes
or metadata fields are collected, so one run reports them all (as MultipleErrors). Every
error carries `file:line:column` (1-based, columns in characters) and, where it helps, a
hint. Nothing but FlowScriptError leaves this module.

Rules where FLOWSCRIPT.md is silent:
- Attributes of `<workflow>` are ignored; text directly in `<workflow>` or in a body is an error.
- Values of data-node attributes are kept exactly; values of control-node attributes and
  every element text are trimmed (locations point at the first kept character).
- Control-node attributes may also be written as a child element holding text
  (`<condition>`, `<max>`, `<collection>`, `<merge>`, `<prompt>`...), except loop's `break`
  (`<break/>` is the break node). Giving both is an error, as is any repeated field.
- Config child elements take no attributes; `id`, `type` and `input` are attributes only;
  `<fallback>` belongs inside `<on-error>`.
- `<on-error><retry>` takes the attributes max, base, timeout, backoff and/or the lines
  maxRetries, backoffBase, timeout, backoff, fallbackNodeId; the old `<retry>` child of a
  node takes the same. max and base are whole numbers >= 0, timeout >= 1 (ms).
  OnError.location is the fallback's node value when there is a fallback, else the element.
- `max`/`timeout` take a whole number >= 0, `concurrency` >= 1, or any text holding `{{`.
- `<branch>` needs at least one `<case>` and `<parallel>` at least one `<branch>`.
- foreach `item`/`index` are names (letters, digits, `_`, `$`) and must differ.
- Elements may nest at most 100 deep.
- `parse_workflow_text` hashes the UTF-8 encoding of the text as given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscript.compiler.ast import (
    BodyItem,
    BranchCase,
    BranchNode,
    BreakNode,
    CheckpointNode,
    ForeachNode,
    IfNode,
    LoopNode,
    Node,
    OnError,
    ParallelBranch,
    ParallelNode,
    RetryPolicy,
    SinkNode,
    SourceNode,
    TransformNode,
    WhileNode,
    Workflow,
)
from flowscript.compiler.frontmatter import read_metadata, split_frontmatter
from flowscript.errors import FlowScriptError, ParseError, SourceLocation
from flowscript.syntax.config_blocks import NotABlock, non_empty_lines, read_block
from flowscript.syntax.log_section import workflow_fingerprint
from flowscript.syntax.source import Location, Source, did_you_mean, hint_with
from flowscript.syntax.xml_reader import Element, Span, Text, find_workflow, read_element

NODE_TAGS = ("source", "transform", "sink", "if", "branch", "loop", "while", "foreach", "parallel",
             "checkpoint", "break")
DATA_TYPES: dict[str, tuple[str, ...]] = {
    "source": ("http", "file"),
    "transform": ("template", "map", "filter", "ai"),
    "sink": ("http", "file"),
}
PLAIN_TEXT = frozenset({"expression", "condition", "template", "system", "user", "path", "output-schema"})
FORCED_BLOCKS = frozenset({"request", "response", "auth"})
LIFTED: dict[str, tuple[str, ...]] = {
    "request": ("method", "url", "headers", "params", "body", "auth", "timeout"),
    "response": ("extract",),
}
CONTAINER_PLACES = {"then": "<if>", "else": "<if>", "case": "<branch>", "default": "<branch>"}
RETRY_ATTRIBUTES = {"max": "max_retries", "base": "backoff_base_ms", "timeout": "timeout_ms",
                    "backoff": "backoff"}
RETRY_KEYS = {"maxRetries": "max_retries", "backoffBase": "backoff_base_ms", "timeout": "timeout_ms",
              "backoff": "backoff", "fallbackNodeId": "fallback"}
_ID = re.compile(r"[^\W\d][\w-]*")  # as the expression lexer reads names: Unicode letters too
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WHOLE = re.compile(r"[0-9]{1,15}")
_WAIT = re.compile(r"all|any|n\(([0-9]{1,9})\)")
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

Value = tuple[str, int]  # text and the file offset of its first character


@dataclass
class _ErrorPolicy:
    """The parts of a node's on-error, from `<on-error>` and/or an old-style `<retry>`."""

    retry: RetryPolicy | None = None
    fallback: str | None = None
    fallback_offset: int | None = None
    offset: int | None = None


@dataclass
class _Data:
    """A data node's config being collected."""

    kind: str
    node_id: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Turns elements into nodes; reports each problem on the Source and keeps going."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.report = source.report

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
        if el.tag in ("source", "transform", "sink"):
            return self.data_node(el)
        build = _CONTROL.get(el.tag)
        if build is not None:
            return build(self, el, loops)
        if el.tag in CONTAINER_PLACES:
            self.report("VALID_UNKNOWN_NODE_TYPE", f"<{el.tag}> is only allowed directly inside "
                        f"{CONTAINER_PLACES[el.tag]}", el.offset)
        else:
            self.report("VALID_UNKNOWN_NODE_TYPE", f"unknown element <{el.tag}>", el.offset,
                        hint=did_you_mean(el.tag, NODE_TAGS, "<{}>")
                        or "a node is one of " + ", ".join(f"<{t}>" for t in NODE_TAGS))
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

    # ---------------------------------------------------------------- data nodes
    def data_node(self, el: Element) -> SourceNode | TransformNode | SinkNode:
        kind = el.tag
        own = {name: (attr.value.text, attr.value.raw_offset(0))
               for name, attr in el.attributes.items() if name in ("id", "input")}
        base = self.base(el, own)
        data = _Data(kind, base["id"], DATA_TYPES[kind][0])
        if "type" in el.attributes:
            written = el.attributes["type"].value
            data.offsets["type"] = written.raw_offset(0)
            if written.text.strip() in DATA_TYPES[kind]:
                data.type = written.text.strip()
            else:
                close = did_you_mean(written.text, DATA_TYPES[kind])
                self.report("VALID_UNKNOWN_NODE_TYPE", f"unknown {kind} type '{written.text}'",
                            written.raw_offset(0),
                            hint=hint_with(close, f"{kind} types: {', '.join(DATA_TYPES[kind])}"))
        for name, attr in el.attributes.items():
            if name not in ("id", "input", "type"):
                self.put(data, name, attr.value.text, attr.value.raw_offset(0))
        policy = _ErrorPolicy()
        for child in el.children:
            if isinstance(child, Text):
                self.no_text(child)
            elif child.tag == "on-error":
                self.on_error(child, policy)
            elif child.tag == "retry":
                self.retry(child, policy)
            elif child.tag in NODE_TAGS or child.tag == "fallback":
                hint = ('put <fallback node="..."/> inside <on-error>' if child.tag == "fallback" else
                        f'data nodes hold no nodes; place it after </{kind}> with input="{data.node_id}"')
                self.misplaced(child, kind, hint)
            elif child.tag in ("id", "type", "input"):
                self.report("VALID_INVALID_FIELD_TYPE", f"{child.tag} of <{kind}> is written as an attribute",
                            child.offset, hint=f'<{kind} {child.tag}="...">')
            else:
                self.config_child(data, child)
        base["value_locations"].update(self.locations(data.offsets))
        on_error = None
        if policy.offset is not None:
            where = policy.fallback_offset if policy.fallback_offset is not None else policy.offset
            on_error = OnError(retry=policy.retry, fallback=policy.fallback, location=self.loc(where))
        model = {"source": SourceNode, "transform": TransformNode, "sink": SinkNode}[kind]
        return model(**base, type=data.type, config=data.config, on_error=on_error)

    def put(self, data: _Data, key: str, value: Any, offset: int) -> None:
        if key in data.config:
            self.report("VALID_INVALID_FIELD_TYPE",
                        f"'{key}' is given twice in <{data.kind} id=\"{data.node_id}\">",
                        offset,
                        hint="give it once: as an attribute, an element or a key of <request>/<response>")
            return
        data.config[key] = value
        data.offsets[key] = offset

    def config_child(self, data: _Data, el: Element) -> None:
        span = self.checked_text(el)
        if span is None:
            return
        text, offset = self.trimmed(el, span)
        forced = el.tag in FORCED_BLOCKS
        if forced or (el.tag not in PLAIN_TEXT and non_empty_lines(span) >= 2):
            block = read_block(span, self.column)
            if isinstance(block, NotABlock):
                if forced:
                    self.report("PARSE_XML_INVALID", f"<{el.tag}> holds 'key: value' lines: {block.reason}",
                                block.offset, hint="write one 'key: value' per line; nested keys go indented "
                                "under a 'key:' line")
                    return
            elif el.tag in LIFTED and data.kind in ("source", "sink") and data.type == "http":
                self.lift(data, el.tag, block.value, block.locations, block.key_offsets)
                return
            else:
                self.put(data, el.tag, block.value, offset)
                data.offsets.update({f"{el.tag}.{path}": at for path, at in block.locations.items()})
                return
        self.put(data, el.tag, text, offset)

    def lift(self, data: _Data, tag: str, value: dict[str, Any], locations: dict[str, int],
             key_offsets: dict[str, int]) -> None:
        allowed = LIFTED[tag]
        for key, item in value.items():
            if key not in allowed:
                close = did_you_mean(key, allowed)
                self.report("VALID_INVALID_FIELD_TYPE", f"unknown key '{key}' in <{tag}>", key_offsets[key],
                            hint=hint_with(close, f"<{tag}> takes {', '.join(allowed)}"))
                continue
            self.put(data, key, item, locations[key])
            data.offsets.update({p: at for p, at in locations.items() if p.startswith(key + ".")})

    # ---------------------------------------------------------------- on-error
    def on_error(self, el: Element, policy: _ErrorPolicy) -> None:
        for attr in el.attributes.values():
            self.report("VALID_INVALID_FIELD_TYPE", f"<on-error> has no attribute '{attr.name}'", attr.offset,
                        hint="it holds <retry .../> and <fallback node=\"...\"/>")
        if policy.offset is None:
            policy.offset = el.offset
        for child in el.children:
            if isinstance(child, Text):
                self.no_text(child)
            elif child.tag == "retry":
                self.retry(child, policy)
            elif child.tag == "fallback":
                self.fallback(child, policy)
            else:
                self.unknown_child(child, "on-error", ("retry", "fallback"))

    def fallback(self, el: Element, policy: _ErrorPolicy) -> None:
        if el.elements():
            self.checked_text(el, attributes_ok=True)
            return
        node = el.attributes.get("node")
        for attr in el.attributes.values():
            if attr.name != "node":
                self.report("VALID_INVALID_FIELD_TYPE", f"<fallback> has no attribute '{attr.name}'",
                            attr.offset,
                            hint='write <fallback node="node-id"/>')
        text, offset = el.text().trimmed()
        if node is not None and text:
            self.report("VALID_INVALID_FIELD_TYPE", "the fallback node is given twice", offset,
                        hint='write <fallback node="node-id"/>')
        elif node is not None:
            self.set_fallback(policy, node.value.text.strip(), node.value.trimmed()[1])
        elif text:
            self.set_fallback(policy, text, offset)
        else:
            self.report("VALID_MISSING_REQUIRED_FIELD", "<fallback> needs the id of the node to run",
                        el.offset,
                        hint='write <fallback node="node-id"/>')

    def set_fallback(self, policy: _ErrorPolicy, node_id: str, offset: int) -> None:
        if policy.fallback is not None:
            self.report("VALID_INVALID_FIELD_TYPE", "the fallback node is given twice", offset,
                        hint="a node has one fallback")
            return
        policy.fallback, policy.fallback_offset = node_id, offset

    def retry(self, el: Element, policy: _ErrorPolicy) -> None:
        """`<retry max=.. base=.. timeout=.. backoff=../>` and/or `key: value` lines."""
        if policy.offset is None:
            policy.offset = el.offset
        if policy.retry is not None:
            self.report("VALID_INVALID_FIELD_TYPE", "the retry policy is given twice", el.offset,
                        hint="give one <retry> (in <on-error>, or the older <retry> child)")
            return
        found: dict[str, tuple[str, int, str]] = {}  # field -> (text, offset, name as written)

        def add(written: str, value: str, offset: int, allowed: dict[str, str]) -> None:
            if written not in allowed:
                close = did_you_mean(written, list(allowed))
                self.report("VALID_INVALID_FIELD_TYPE", f"<retry> has no setting '{written}'", offset,
                            hint=hint_with(close, f"<retry> takes {', '.join(allowed)}"))
            elif allowed[written] in found:
                self.report("VALID_INVALID_FIELD_TYPE", f"<retry> setting '{written}' is given twice", offset)
            else:
                found[allowed[written]] = (value, offset, written)

        for attr in el.attributes.values():
            add(attr.name, attr.value.text, attr.value.raw_offset(0), RETRY_ATTRIBUTES)
        span = self.checked_text(el, attributes_ok=True)
        if span is None:
            return
        block = read_block(span, self.column)
        if isinstance(block, NotABlock):
            self.report("PARSE_XML_INVALID", f"<retry> holds 'key: value' lines: {block.reason}",
                        block.offset,
                        hint="e.g. maxRetries: 3 / backoffBase: 1000 / timeout: 30000")
            return
        for key, value in block.value.items():
            if isinstance(value, dict):
                self.report("VALID_INVALID_FIELD_TYPE", f"<retry> setting '{key}' takes a value",
                            block.key_offsets[key])
            else:
                add(key, value, block.locations[key], RETRY_KEYS)
        policy.retry = self.retry_policy(found, policy)

    def retry_policy(self, found: dict[str, tuple[str, int, str]], policy: _ErrorPolicy) -> RetryPolicy:
        settings: dict[str, Any] = {}
        minimums = {"max_retries": 0, "backoff_base_ms": 0, "timeout_ms": 1}
        for name, (text, offset, written) in found.items():
            if name == "fallback":
                self.set_fallback(policy, text.strip(), offset)
            elif name == "backoff":
                if text.strip() in ("exponential", "fixed"):
                    settings["backoff"] = text.strip()
                else:
                    self.report("VALID_INVALID_FIELD_TYPE", f"backoff '{text}' is not exponential or fixed",
                                offset,
                                hint="allowed: exponential, fixed")
            else:
                settings[name] = self.integer(text, offset, f"<retry> {written}", minimums[name])
        return RetryPolicy(**settings)

    # ---------------------------------------------------------------- control nodes
    def if_node(self, el: Element, loops: tuple[str, ...]) -> IfNode:
        values, rest = self.fields(el, ("condition",), ("condition",))
        base = self.base(el, values)
        bodies: dict[str, list[BodyItem]] = {}
        for child in rest:
            if isinstance(child, Text):
                self.no_text(child)
            elif child.tag in ("then", "else"):
                if child.tag in bodies:
                    self.report("VALID_INVALID_FIELD_TYPE", f"<{child.tag}> is given twice in <if>",
                                child.offset)
                bodies[child.tag] = self.container(child, loops)
            elif child.tag in NODE_TAGS:
                self.misplaced(child, "if", "put the nodes to run in <then>...</then> (and <else>...</else>)")
            else:
                self.unknown_child(child, "if", ("then", "else", "condition"))
        return IfNode(**base, condition=self.required(el, values, "condition"), then=bodies.get("then", []),
                      else_=bodies.get("else"))

    def branch_node(self, el: Element, loops: tuple[str, ...]) -> BranchNode:
        values, rest = self.fields(el, (), ())
        base = self.base(el, values)
        cases: list[BranchCase] = []
        default: list[BodyItem] | None = None
        for child in rest:
            if isinstance(child, Text):
                self.no_text(child)
            elif child.tag == "case":
                when = child.attributes.get("when")
                text, offset = when.value.trimmed() if when is not None else ("false", child.offset)
                if when is None:
                    self.report("VALID_MISSING_REQUIRED_FIELD", "<case> needs when", child.offset,
                                hint='write <case when="expression">')
                elif not text:
                    self.report("VALID_MISSING_REQUIRED_FIELD", "when of <case> is empty", offset)
                body = self.container(child, loops, ("when",))
                cases.append(BranchCase(when=text, body=body, location=self.loc(child.offset),
                                        when_location=self.loc(offset)))
            elif child.tag == "default":
                if default is not None:
                    self.report("VALID_INVALID_FIELD_TYPE", "<default> is given twice in <branch>",
                                child.offset)
                default = self.container(child, loops)
            elif child.tag in NODE_TAGS:
                self.misplaced(child, "branch", 'put the nodes in <case when="...">...</case> or <default>')
            else:
                self.unknown_child(child, "branch", ("case", "default"))
        if not cases:
            self.report("VALID_MISSING_REQUIRED_FIELD", "<branch> needs at least one <case when=\"...\">",
                        el.offset)
        return BranchNode(**base, cases=cases, default=default)

    def loop_node(self, el: Element, loops: tuple[str, ...]) -> LoopNode:
        values, rest = self.fields(el, ("max", "break"), ("max",))
        base = self.base(el, values)
        if "break" in values and not values["break"][0]:
            self.report("VALID_MISSING_REQUIRED_FIELD", "break of <loop> is empty", values["break"][1])
        return LoopNode(**base, max=self.number(el, values, "max", 0), break_=values.get("break", (None,))[0],
                        body=self.body(rest, (*loops, base["id"])))

    def while_node(self, el: Element, loops: tuple[str, ...]) -> WhileNode:
        values, rest = self.fields(el, ("condition", "max"), ("condition", "max"))
        base = self.base(el, values)
        return WhileNode(**base, condition=self.required(el, values, "condition"),
                         max=self.number(el, values, "max", 0), body=self.body(rest, (*loops, base["id"])))

    def foreach_node(self, el: Element, loops: tuple[str, ...]) -> ForeachNode:
        names = ("collection", "item", "index", "concurrency")
        values, rest = self.fields(el, names, names)
        base = self.base(el, values)
        bound: dict[str, str] = {}
        for name in ("item", "index"):
            text, offset = values.get(name, (name, el.offset))
            if not _NAME.fullmatch(text):
                self.report("VALID_INVALID_FIELD_TYPE", f"{name} of <foreach> must be a name, not '{text}'",
                            offset,
                            hint="letters, digits, _ and $, not starting with a digit")
                text = name
            bound[name] = text
        if bound["item"] == bound["index"]:
            self.report("VALID_INVALID_FIELD_TYPE", "item and index of <foreach> have the same name",
                        values.get("index", (None, el.offset))[1])
        return ForeachNode(**base, collection=self.required(el, values, "collection"), item=bound["item"],
                           index=bound["index"], concurrency=self.number(el, values, "concurrency", 1),
                           body=self.body(rest, (*loops, base["id"])))

    def parallel_node(self, el: Element, loops: tuple[str, ...]) -> ParallelNode:
        names = ("concurrency", "wait", "merge")
        values, rest = self.fields(el, names, names)
        base = self.base(el, values)
        branches: list[ParallelBranch] = []
        for child in rest:
            if isinstance(child, Text):
                self.no_text(child)
            elif child.tag == "branch":
                branches.append(ParallelBranch(body=self.container(child, loops),
                                               location=self.loc(child.offset)))
            elif child.tag in NODE_TAGS:
                self.misplaced(child, "parallel", "wrap each branch's nodes in <branch>...</branch>")
            else:
                self.unknown_child(child, "parallel", ("branch",))
        if not branches:
            self.report("VALID_MISSING_REQUIRED_FIELD", "<parallel> needs at least one <branch>", el.offset)
        wait = values.get("wait", ("all", el.offset))
        match = _WAIT.fullmatch(wait[0])
        if match is None or (match.group(1) is not None and not match.group(1).strip("0")):
            self.report("VALID_INVALID_FIELD_TYPE", f"wait of <parallel> is '{wait[0]}'", wait[1],
                        hint="allowed: all, any, n(K) with K a whole number of at least 1")
        merge = values.get("merge", ("array", el.offset))
        if not merge[0]:
            self.report("VALID_INVALID_FIELD_TYPE", "merge of <parallel> is empty", merge[1],
                        hint="array, concat, object, or an expression over $branches")
        return ParallelNode(**base, branches=branches, concurrency=self.number(el, values, "concurrency", 1),
                            wait=wait[0], merge=merge[0] or "array")

    def checkpoint_node(self, el: Element, loops: tuple[str, ...]) -> CheckpointNode:
        names = ("prompt", "timeout", "default")
        values, rest = self.fields(el, names, names)
        base = self.base(el, values)
        for child in rest:
            if isinstance(child, Text):
                self.no_text(child)
            else:
                self.unknown_child(child, "checkpoint", names)
        default = self.choice(el, values, "default", ("approve", "reject")) or "reject"
        return CheckpointNode(**base, prompt=values.get("prompt", (None,))[0],
                              timeout=self.number(el, values, "timeout", 0), default=default)

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


_CONTROL: dict[str, Callable[[_Builder, Element, tuple[str, ...]], BodyItem]] = {
    "if": _Builder.if_node,
    "branch": _Builder.branch_node,
    "loop": _Builder.loop_node,
    "while": _Builder.while_node,
    "foreach": _Builder.foreach_node,
    "parallel": _Builder.parallel_node,
    "checkpoint": _Builder.checkpoint_node,
}

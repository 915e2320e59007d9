"""What sources, transforms and sinks share: their model, how their element reads, and
their error handling (docs/language.md#data-nodes, docs/language.md#retries-and-fallback).

A data type (`source` of type `http`, `transform` of type `map`...) is a subclass of one
of the three families below, in a module of its own: it names its type, the config it
needs, the entries its `run` evaluates itself, and what it does.

Reading rules (docs/language.md#data-nodes; the choices: docs/language.md#nodes-and-their-config):
- Every attribute but id, type and input is a config entry, kept exactly as written.
- A child element is a config entry: its trimmed text, or a nested mapping when it holds
  two or more `key: value` lines (never for the prose and expression elements); `<request>`,
  `<response>` and `<auth>` are always `key: value` lines. An http node's `<request>` and
  `<response>` keys are lifted into its config.
- `<on-error><retry max=.. base=.. timeout=.. backoff=../><fallback node=".."/></on-error>`;
  the older `<retry>` child (lines maxRetries, backoffBase, timeout, backoff, fallbackNodeId)
  says the same. max and base are whole numbers >= 0, timeout >= 1 (ms). OnError.location
  is the fallback's node value when there is a fallback, else the element's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from flowscript.nodes.base import NO_NAMES, DataCall, Node, NodeReader, Report, Site
from flowscript.syntax.config_blocks import NotABlock, non_empty_lines, read_block
from flowscript.syntax.source import Location, did_you_mean, hint_with
from flowscript.syntax.xml_reader import Element, Text

FILE_FORMATS = ("json", "text", "csv", "yaml", "auto")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
HTTP_LIFTED = {"request": ("method", "url", "headers", "params", "body", "auth", "timeout"), "response": ("extract",)}
ITEM_NAMES = frozenset({"$item", "$index", "$first", "$last", "$items"})
PLAIN_TEXT = frozenset({"expression", "condition", "template", "system", "user", "path", "output-schema"})
FORCED_BLOCKS = frozenset({"request", "response", "auth"})
RETRY_ATTRIBUTES = {"max": "max_retries", "base": "backoff_base_ms", "timeout": "timeout_ms",
                    "backoff": "backoff"}
RETRY_KEYS = {"maxRetries": "max_retries", "backoffBase": "backoff_base_ms", "timeout": "timeout_ms",
              "backoff": "backoff", "fallbackNodeId": "fallback"}


@dataclass(kw_only=True, slots=True)
class RetryPolicy:
    """A node's retry settings; a field left None takes the documented default."""

    max_retries: int | None = None
    backoff_base_ms: int | None = None
    timeout_ms: int | None = None
    backoff: Literal["exponential", "fixed"] = "exponential"


@dataclass(kw_only=True, slots=True)
class OnError:
    """A node's `<on-error>`: how often to retry, and which node's output stands in after."""

    retry: RetryPolicy | None = None
    fallback: str | None = None
    location: Location | None = None


@dataclass(kw_only=True, slots=True)
class DataNode(Node):
    """Source, transform or sink: `config` holds every other attribute and child element."""

    type: ClassVar[str]  # "http", "map"...
    required_config: ClassVar[tuple[str, ...]] = ()  # what it cannot run without
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {}  # config values checked when written literally
    expressions: ClassVar[Mapping[str, frozenset[str]]] = {}  # entries its run evaluates, with the names bound
    self_evaluated: ClassVar[frozenset[str]] = frozenset()  # entries not resolved as templates before run
    lifted: ClassVar[Mapping[str, tuple[str, ...]]] = {}  # <request>/<response> keys lifted into config
    wants_input: ClassVar[bool] = False  # at top level, warn when it has no input
    # Its output is computed by its expressions (not I/O): computed from a secret, it is secret
    # (compiler/taint.py). `passes_input`: it holds input items as they are (a filter).
    derived_output: ClassVar[bool] = False
    passes_input: ClassVar[bool] = False

    config: dict[str, Any] = field(default_factory=dict)
    on_error: OnError | None = None

    @property
    def kind_name(self) -> str:
        return f"{self.kind}:{self.type}"

    @property
    def fallback(self) -> str | None:
        return self.on_error.fallback if self.on_error else None

    def sites(self) -> Iterator[Site]:
        for key, value in self.config.items():
            if key in self.expressions and isinstance(value, str):
                yield Site(key, value, "expression", self.value_locations.get(key), self.expressions[key])
            else:
                for text in config_strings(value):
                    yield Site(key, text, "template", self.value_locations.get(key), NO_NAMES)

    def check(self, report: Report) -> None:
        for key in self.required_config:
            if self.config.get(key) in (None, ""):
                report("VALID_MISSING_REQUIRED_FIELD", f"{self.kind_name} node '{self.id}' needs '{key}'",
                       self.location, hint=f"add {key}=\"...\" or a <{key}> element")
        for key, allowed in self.choices.items():
            value = self.config.get(key)
            if isinstance(value, str) and "{{" not in value:
                normalised = value.upper() if key == "method" else value.lower()
                if normalised not in allowed:
                    report("VALID_INVALID_FIELD_TYPE", f"node '{self.id}': {key} '{value}' is not one of "
                           f"{', '.join(allowed)}", self.location_of(key))

    async def run(self, call: DataCall) -> Any:
        raise NotImplementedError

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...] = ()) -> DataNode:
        return _DataReader(reader, el, cls).node()


@dataclass(kw_only=True, slots=True)
class SourceNode(DataNode):
    """A `<source>`: reads data in (its input, when it has one, only feeds its expressions)."""

    kind = "source"


@dataclass(kw_only=True, slots=True)
class TransformNode(DataNode):
    """A `<transform>`: its input in, a new value out."""

    kind = "transform"


@dataclass(kw_only=True, slots=True)
class SinkNode(DataNode):
    """A `<sink>`: writes its input out; its output says what it wrote."""

    kind = "sink"


def item_names(item: Any, index: int, items: list[Any]) -> dict[str, Any]:
    """What map and filter bind per item."""
    return {"$item": item, "$index": index, "$first": index == 0, "$last": index == len(items) - 1,
            "$items": items}


def config_strings(value: Any) -> Iterator[str]:
    """The strings of a config value, in order (keys are names, not templates)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from config_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from config_strings(v)


# ------------------------------------------------------------------ reading


@dataclass
class _ErrorPolicy:
    """The parts of a node's on-error, from `<on-error>` and/or an old-style `<retry>`."""

    retry: RetryPolicy | None = None
    fallback: str | None = None
    fallback_offset: int | None = None
    offset: int | None = None


class _DataReader:
    """One data element becoming a node: config collected, on-error read, problems reported."""

    def __init__(self, reader: NodeReader, el: Element, model: type[DataNode]) -> None:
        self.r, self.el, self.model = reader, el, model
        self.config: dict[str, Any] = {}
        self.offsets: dict[str, int] = {}
        self.policy = _ErrorPolicy()

    def node(self) -> DataNode:
        el, r = self.el, self.r
        own = {name: (attr.value.text, attr.value.raw_offset(0))
               for name, attr in el.attributes.items() if name in ("id", "input")}
        base = r.base(el, own)
        self.node_id = base["id"]
        if "type" in el.attributes:
            self.offsets["type"] = el.attributes["type"].value.raw_offset(0)
        for name, attr in el.attributes.items():
            if name not in ("id", "input", "type"):
                self.put(name, attr.value.text, attr.value.raw_offset(0))
        for child in el.children:
            if isinstance(child, Text):
                r.no_text(child)
            elif child.tag == "on-error":
                self.on_error(child)
            elif child.tag == "retry":
                self.retry(child)
            elif child.tag == "fallback" or child.tag in r.node_tags:
                hint = ('put <fallback node="..."/> inside <on-error>' if child.tag == "fallback" else
                        f'data nodes hold no nodes; place it after </{el.tag}> with input="{self.node_id}"')
                r.misplaced(child, el.tag, hint)
            elif child.tag in ("id", "type", "input"):
                r.report("VALID_INVALID_FIELD_TYPE", f"{child.tag} of <{el.tag}> is written as an attribute",
                         child.offset, hint=f'<{el.tag} {child.tag}="...">')
            else:
                self.config_child(child)
        base["value_locations"].update({key: r.loc(offset) for key, offset in self.offsets.items()})
        on_error = None
        policy = self.policy
        if policy.offset is not None:
            where = policy.fallback_offset if policy.fallback_offset is not None else policy.offset
            on_error = OnError(retry=policy.retry, fallback=policy.fallback, location=r.loc(where))
        return self.model(**base, config=self.config, on_error=on_error)

    def put(self, key: str, value: Any, offset: int) -> None:
        if key in self.config:
            self.r.report("VALID_INVALID_FIELD_TYPE",
                          f"'{key}' is given twice in <{self.el.tag} id=\"{self.node_id}\">", offset,
                          hint="give it once: as an attribute, an element or a key of <request>/<response>")
            return
        self.config[key] = value
        self.offsets[key] = offset

    def config_child(self, el: Element) -> None:
        span = self.r.checked_text(el)
        if span is None:
            return
        text, offset = span.trimmed()
        offset = offset if text else el.offset
        forced = el.tag in FORCED_BLOCKS
        if forced or (el.tag not in PLAIN_TEXT and non_empty_lines(span) >= 2):
            block = read_block(span, self.r.column)
            if isinstance(block, NotABlock):
                if forced:
                    self.r.report("PARSE_XML_INVALID", f"<{el.tag}> holds 'key: value' lines: {block.reason}",
                                  block.offset, hint="write one 'key: value' per line; nested keys go indented "
                                  "under a 'key:' line")
                    return
            elif el.tag in self.model.lifted:
                self.lift(el.tag, block.value, block.locations, block.key_offsets)
                return
            else:
                self.put(el.tag, block.value, offset)
                self.offsets.update({f"{el.tag}.{path}": at for path, at in block.locations.items()})
                return
        self.put(el.tag, text, offset)

    def lift(self, tag: str, value: dict[str, Any], locations: dict[str, int], key_offsets: dict[str, int]) -> None:
        allowed = self.model.lifted[tag]
        for key, item in value.items():
            if key not in allowed:
                close = did_you_mean(key, allowed)
                self.r.report("VALID_INVALID_FIELD_TYPE", f"unknown key '{key}' in <{tag}>", key_offsets[key],
                              hint=hint_with(close, f"<{tag}> takes {', '.join(allowed)}"))
                continue
            self.put(key, item, locations[key])
            self.offsets.update({p: at for p, at in locations.items() if p.startswith(key + ".")})

    # ---------------------------------------------------------------- on-error
    def on_error(self, el: Element) -> None:
        for attr in el.attributes.values():
            self.r.report("VALID_INVALID_FIELD_TYPE", f"<on-error> has no attribute '{attr.name}'", attr.offset,
                          hint="it holds <retry .../> and <fallback node=\"...\"/>")
        if self.policy.offset is None:
            self.policy.offset = el.offset
        for child in el.children:
            if isinstance(child, Text):
                self.r.no_text(child)
            elif child.tag == "retry":
                self.retry(child)
            elif child.tag == "fallback":
                self.fallback(child)
            else:
                self.r.unknown_child(child, "on-error", ("retry", "fallback"))

    def fallback(self, el: Element) -> None:
        if el.elements():
            self.r.checked_text(el, attributes_ok=True)
            return
        node = el.attributes.get("node")
        for attr in el.attributes.values():
            if attr.name != "node":
                self.r.report("VALID_INVALID_FIELD_TYPE", f"<fallback> has no attribute '{attr.name}'",
                              attr.offset, hint='write <fallback node="node-id"/>')
        text, offset = el.text().trimmed()
        if node is not None and text:
            self.r.report("VALID_INVALID_FIELD_TYPE", "the fallback node is given twice", offset,
                          hint='write <fallback node="node-id"/>')
        elif node is not None:
            self.set_fallback(node.value.text.strip(), node.value.trimmed()[1])
        elif text:
            self.set_fallback(text, offset)
        else:
            self.r.report("VALID_MISSING_REQUIRED_FIELD", "<fallback> needs the id of the node to run", el.offset,
                          hint='write <fallback node="node-id"/>')

    def set_fallback(self, node_id: str, offset: int) -> None:
        if self.policy.fallback is not None:
            self.r.report("VALID_INVALID_FIELD_TYPE", "the fallback node is given twice", offset,
                          hint="a node has one fallback")
            return
        self.policy.fallback, self.policy.fallback_offset = node_id, offset

    def retry(self, el: Element) -> None:
        """`<retry max=.. base=.. timeout=.. backoff=../>` and/or `key: value` lines."""
        policy = self.policy
        if policy.offset is None:
            policy.offset = el.offset
        if policy.retry is not None:
            self.r.report("VALID_INVALID_FIELD_TYPE", "the retry policy is given twice", el.offset,
                          hint="give one <retry> (in <on-error>, or the older <retry> child)")
            return
        found: dict[str, tuple[str, int, str]] = {}  # field -> (text, offset, name as written)

        def add(written: str, value: str, offset: int, allowed: dict[str, str]) -> None:
            if written not in allowed:
                close = did_you_mean(written, list(allowed))
                self.r.report("VALID_INVALID_FIELD_TYPE", f"<retry> has no setting '{written}'", offset,
                              hint=hint_with(close, f"<retry> takes {', '.join(allowed)}"))
            elif allowed[written] in found:
                self.r.report("VALID_INVALID_FIELD_TYPE", f"<retry> setting '{written}' is given twice", offset)
            else:
                found[allowed[written]] = (value, offset, written)

        for attr in el.attributes.values():
            add(attr.name, attr.value.text, attr.value.raw_offset(0), RETRY_ATTRIBUTES)
        span = self.r.checked_text(el, attributes_ok=True)
        if span is None:
            return
        block = read_block(span, self.r.column)
        if isinstance(block, NotABlock):
            self.r.report("PARSE_XML_INVALID", f"<retry> holds 'key: value' lines: {block.reason}", block.offset,
                          hint="e.g. maxRetries: 3 / backoffBase: 1000 / timeout: 30000")
            return
        for key, value in block.value.items():
            if isinstance(value, dict):
                self.r.report("VALID_INVALID_FIELD_TYPE", f"<retry> setting '{key}' takes a value",
                              block.key_offsets[key])
            else:
                add(key, value, block.locations[key], RETRY_KEYS)
        policy.retry = self.retry_policy(found)

    def retry_policy(self, found: dict[str, tuple[str, int, str]]) -> RetryPolicy:
        settings: dict[str, Any] = {}
        minimums = {"max_retries": 0, "backoff_base_ms": 0, "timeout_ms": 1}
        for name, (text, offset, written) in found.items():
            if name == "fallback":
                self.set_fallback(text.strip(), offset)
            elif name == "backoff":
                if text.strip() in ("exponential", "fixed"):
                    settings["backoff"] = text.strip()
                else:
                    self.r.report("VALID_INVALID_FIELD_TYPE", f"backoff '{text}' is not exponential or fixed",
                                  offset, hint="allowed: exponential, fixed")
            else:
                settings[name] = self.r.integer(text, offset, f"<retry> {written}", minimums[name])
        return RetryPolicy(**settings)

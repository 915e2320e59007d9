"""The workflow AST: what a .flow.md file says, as pydantic models.

The parser builds it; the validator, the planner, both backends and editors (through
`workflow_json_schema()`) read it. It holds strings as written: expressions and templates
are compiled by the runtime, numeric attributes may be templates and stay strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowscript.syntax.source import Location

ConfigType = Literal["string", "number", "boolean", "object", "array"]
TriggerType = Literal["manual", "webhook", "schedule"]
SourceType = Literal["http", "file"]
SinkType = Literal["http", "file"]
TransformType = Literal["map", "filter", "template", "ai"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ------------------------------------------------------------------ frontmatter


class ConfigField(_Model):
    """A typed run parameter declared in the frontmatter's `config`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: ConfigType = "string"
    default: Any = None
    description: str | None = None
    required: bool = False


class Trigger(_Model):
    type: TriggerType = "manual"
    config: dict[str, Any] = Field(default_factory=dict)


class WorkflowMeta(_Model):
    name: str
    version: str
    description: str | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    config: dict[str, ConfigField] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    schemas: dict[str, Any] = Field(default_factory=dict)


# ------------------------------------------------------------------ error handling


class RetryPolicy(_Model):
    """A node's retry settings; a field left None takes the documented default."""

    max_retries: int | None = None
    backoff_base_ms: int | None = None
    timeout_ms: int | None = None
    backoff: Literal["exponential", "fixed"] = "exponential"


class OnError(_Model):
    retry: RetryPolicy | None = None
    fallback: str | None = None
    location: Location | None = None


# ------------------------------------------------------------------ nodes


class NodeBase(_Model):
    id: str
    input: str | None = None
    location: Location
    # Where each attribute value or child element text starts (key = attribute/tag name),
    # so errors inside an expression can point at the right file column.
    value_locations: dict[str, Location] = Field(default_factory=dict)


class DataNode(NodeBase):
    """Source, transform or sink: `config` holds every other attribute and child element."""

    config: dict[str, Any] = Field(default_factory=dict)
    on_error: OnError | None = None


class SourceNode(DataNode):
    kind: Literal["source"] = "source"
    type: SourceType = "http"


class TransformNode(DataNode):
    kind: Literal["transform"] = "transform"
    type: TransformType = "template"


class SinkNode(DataNode):
    kind: Literal["sink"] = "sink"
    type: SinkType = "http"


class IfNode(NodeBase):
    kind: Literal["if"] = "if"
    condition: str
    then: list[BodyItem] = Field(default_factory=list)
    else_: list[BodyItem] | None = Field(default=None, alias="else")


class BranchCase(_Model):
    when: str
    body: list[BodyItem] = Field(default_factory=list)
    location: Location
    when_location: Location | None = None


class BranchNode(NodeBase):
    kind: Literal["branch"] = "branch"
    cases: list[BranchCase]
    default: list[BodyItem] | None = None


class LoopNode(NodeBase):
    kind: Literal["loop"] = "loop"
    max: str | None = None  # an int, or a template giving one; None: 1000
    break_: str | None = Field(default=None, alias="break")
    body: list[BodyItem] = Field(default_factory=list)


class WhileNode(NodeBase):
    kind: Literal["while"] = "while"
    condition: str
    max: str | None = None  # None: 1000
    body: list[BodyItem] = Field(default_factory=list)


class ForeachNode(NodeBase):
    kind: Literal["foreach"] = "foreach"
    collection: str
    item: str = "item"
    index: str = "index"
    concurrency: str | None = None  # None: 1 (sequential)
    body: list[BodyItem] = Field(default_factory=list)


class ParallelBranch(_Model):
    body: list[BodyItem] = Field(default_factory=list)
    location: Location


class ParallelNode(NodeBase):
    kind: Literal["parallel"] = "parallel"
    branches: list[ParallelBranch]
    concurrency: str | None = None  # None: the run's max concurrency
    wait: str = "all"  # all | any | n(K)
    merge: str = "array"  # array | concat | object | an expression over $branches


class CheckpointNode(NodeBase):
    kind: Literal["checkpoint"] = "checkpoint"
    prompt: str | None = None
    timeout: str | None = None  # milliseconds, or a template giving them
    default: Literal["approve", "reject"] = "reject"


class BreakNode(_Model):
    """`<break/>`: not a node (no id, no result); leaves the enclosing (or named) loop."""

    kind: Literal["break"] = "break"
    loop: str | None = None
    location: Location


Node = Annotated[
    SourceNode
    | TransformNode
    | SinkNode
    | IfNode
    | BranchNode
    | LoopNode
    | WhileNode
    | ForeachNode
    | ParallelNode
    | CheckpointNode,
    Field(discriminator="kind"),
]
BodyItem = Annotated[
    SourceNode
    | TransformNode
    | SinkNode
    | IfNode
    | BranchNode
    | LoopNode
    | WhileNode
    | ForeachNode
    | ParallelNode
    | CheckpointNode
    | BreakNode,
    Field(discriminator="kind"),
]
AnyNode = (
    SourceNode
    | TransformNode
    | SinkNode
    | IfNode
    | BranchNode
    | LoopNode
    | WhileNode
    | ForeachNode
    | ParallelNode
    | CheckpointNode
)
DATA_NODE_KINDS = ("source", "transform", "sink")
CONTROL_NODE_KINDS = ("if", "branch", "loop", "while", "foreach", "parallel", "checkpoint")


class Workflow(_Model):
    """A parsed .flow.md file."""

    path: str | None = None
    source_sha256: str = ""
    meta: WorkflowMeta
    meta_locations: dict[str, Location] = Field(default_factory=dict)  # frontmatter key -> where
    body_location: Location | None = None  # the `<workflow>` element
    nodes: list[Node] = Field(default_factory=list)


for _model in (IfNode, BranchCase, BranchNode, LoopNode, WhileNode, ForeachNode, ParallelBranch, ParallelNode,
               Workflow):
    _model.model_rebuild()


# ------------------------------------------------------------------ walking


def bodies(node: AnyNode | BreakNode) -> list[list[BodyItem]]:
    """The node's nested bodies in source order (then/else, each case/default, each branch...)."""
    match node:
        case IfNode():
            return [node.then] + ([node.else_] if node.else_ is not None else [])
        case BranchNode():
            return [c.body for c in node.cases] + ([node.default] if node.default is not None else [])
        case LoopNode() | WhileNode() | ForeachNode():
            return [node.body]
        case ParallelNode():
            return [b.body for b in node.branches]
        case _:
            return []


def walk(items: list[Any]) -> Iterator[AnyNode]:
    """Every node in `items` and below, depth first in source order (breaks left out)."""
    for item in items:
        if isinstance(item, BreakNode):
            continue
        yield item
        for body in bodies(item):
            yield from walk(body)


def workflow_json_schema() -> dict[str, Any]:
    """JSON Schema of the AST (`flowscript parse` output), for editors and tools."""
    return Workflow.model_json_schema(by_alias=True)

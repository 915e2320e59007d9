"""Every node kind, registered once. A new kind is one new module and one line here
(docs/architecture.md, "Adding a node kind")."""

from __future__ import annotations

from flowscript.nodes.ai_transform import AiTransform
from flowscript.nodes.base import Node
from flowscript.nodes.branch import BranchNode
from flowscript.nodes.checkpoint import CheckpointNode
from flowscript.nodes.data import DataNode
from flowscript.nodes.file_sink import FileSink
from flowscript.nodes.file_source import FileSource
from flowscript.nodes.filter_transform import FilterTransform
from flowscript.nodes.foreach import ForeachNode
from flowscript.nodes.http_sink import HttpSink
from flowscript.nodes.http_source import HttpSource
from flowscript.nodes.if_node import IfNode
from flowscript.nodes.loop import LoopNode
from flowscript.nodes.map_transform import MapTransform
from flowscript.nodes.parallel import ParallelNode
from flowscript.nodes.template_transform import TemplateTransform
from flowscript.nodes.while_node import WhileNode

KINDS: tuple[type[Node], ...] = (
    HttpSource,
    FileSource,
    TemplateTransform,
    MapTransform,
    FilterTransform,
    AiTransform,
    HttpSink,
    FileSink,
    IfNode,
    BranchNode,
    LoopNode,
    WhileNode,
    ForeachNode,
    ParallelNode,
    CheckpointNode,
)


def data_types(tag: str) -> dict[str, type[DataNode]]:
    """A data family's types by name, the default one first (`source` -> http, file)."""
    types = [k for k in KINDS if issubclass(k, DataNode) and k.kind == tag]
    types.sort(key=lambda k: not k.default_type)
    return {k.type: k for k in types}


DATA_TAGS: dict[str, dict[str, type[DataNode]]] = {tag: data_types(tag) for tag in ("source", "transform", "sink")}
CONTROL_TAGS: dict[str, type[Node]] = {k.kind: k for k in KINDS if not issubclass(k, DataNode)}

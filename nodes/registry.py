"""Every node kind, registered once. A new kind is one new module and one line here
(docs/architecture.md, "Adding a node kind")."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class KindTable:
    """The kinds by the element that writes them."""

    data: dict[str, dict[str, type[DataNode]]]  # tag -> type name -> kind, the default type first
    control: dict[str, type[Node]]  # tag -> kind

    @property
    def tags(self) -> tuple[str, ...]:
        """Every element that is a node, and `<break/>`."""
        return (*self.data, *self.control, "break")


def table_of(kinds: tuple[type[Node], ...]) -> KindTable:
    data: dict[str, dict[str, type[DataNode]]] = {}
    for kind in sorted((k for k in kinds if issubclass(k, DataNode)), key=lambda k: not k.default_type):
        data.setdefault(kind.kind, {})[kind.type] = kind
    data = {tag: data[tag] for tag in dict.fromkeys(k.kind for k in kinds if issubclass(k, DataNode))}
    return KindTable(data, {k.kind: k for k in kinds if not issubclass(k, DataNode)})


TABLE = table_of(KINDS)

"""Every node kind, registered once: the element (and `type=`) that writes it and the module
that holds it. A new kind is one new module and one line here (docs/architecture.md,
"Adding a node kind"). A kind's module is imported when a workflow first uses it: a
workflow of file and template nodes never loads the http, ai or loop kinds.
"""

from __future__ import annotations

import builtins
import importlib
from dataclasses import dataclass

from flowscript.nodes.base import Node


@dataclass(frozen=True, slots=True)
class Kind:
    """Where a kind lives: `module:Class` under flowscript.nodes."""

    tag: str
    type: str | None  # a data kind's type= (a tag's first type is its default); None for the rest
    where: str

    def load(self) -> builtins.type[Node]:
        module, _, name = self.where.partition(":")
        kind: builtins.type[Node] = getattr(importlib.import_module(f"flowscript.nodes.{module}"), name)
        return kind


KINDS: tuple[Kind, ...] = (
    Kind("source", "http", "http_source:HttpSource"),
    Kind("source", "file", "file_source:FileSource"),
    Kind("transform", "template", "template_transform:TemplateTransform"),
    Kind("transform", "map", "map_transform:MapTransform"),
    Kind("transform", "filter", "filter_transform:FilterTransform"),
    Kind("transform", "ai", "ai_transform:AiTransform"),
    Kind("sink", "http", "http_sink:HttpSink"),
    Kind("sink", "file", "file_sink:FileSink"),
    Kind("if", None, "if_node:IfNode"),
    Kind("branch", None, "branch:BranchNode"),
    Kind("loop", None, "loop:LoopNode"),
    Kind("while", None, "while_node:WhileNode"),
    Kind("foreach", None, "foreach:ForeachNode"),
    Kind("parallel", None, "parallel:ParallelNode"),
    Kind("checkpoint", None, "checkpoint:CheckpointNode"),
)


@dataclass(frozen=True, slots=True)
class KindTable:
    """The kinds by the element that writes them."""

    data: dict[str, dict[str, Kind]]  # tag -> type name -> kind, the default type first
    control: dict[str, Kind]  # tag -> kind

    @property
    def tags(self) -> tuple[str, ...]:
        """Every element that is a node, and `<break/>`."""
        return (*self.data, *self.control, "break")


def table_of(kinds: tuple[Kind, ...]) -> KindTable:
    data: dict[str, dict[str, Kind]] = {}
    control: dict[str, Kind] = {}
    for kind in kinds:
        if kind.type is None:
            control[kind.tag] = kind
        else:
            data.setdefault(kind.tag, {})[kind.type] = kind
    return KindTable(data, control)


TABLE = table_of(KINDS)

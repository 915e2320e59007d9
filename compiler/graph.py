"""A workflow as a Mermaid flowchart (`flowscript plan --format mermaid`), and the `## Graph`
section that keeps it in the .flow.md file (`flowscript plan --write-graph`).

Nodes by kind (a source is a cylinder, a sink a parallelogram, a transform a box, a control
node a subgraph holding its bodies, a checkpoint a diamond); solid edges are dependencies (a
top-level node's `input` and the nodes its expressions name, and each body node after the one
whose output it receives); dashed edges go to fallbacks. GitHub and most Markdown editors
draw a ```mermaid block.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from flowscript.compiler.planner import Plan
from flowscript.nodes.base import BodyItem, BreakNode, Node
from flowscript.nodes.data import DataNode
from flowscript.nodes.io.atomic import atomic_write_bytes
from flowscript.syntax.graph_section import with_graph

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_NAMED_BODIES = frozenset({"if", "branch", "parallel"})
_SHAPES = {"source": ('[("', '")]'), "sink": ('[/"', '"/]'), "transform": ('["', '"]'), "checkpoint": ('{"', '"}')}


def mermaid(plan: Plan) -> str:
    """The flowchart of a planned workflow."""
    lines = ["flowchart TD"]
    lines += _body(plan.workflow.nodes, plan, indent="  ")
    for node_id, dependencies in plan.dependencies.items():
        for dependency in sorted(dependencies):
            lines.append(f"  {_ref(dependency)} --> {_ref(node_id)}")
    for node in plan.nodes.values():
        if isinstance(node, DataNode) and node.fallback and node.fallback in plan.nodes:
            lines.append(f"  {_ref(node.id)} -.->|fallback| {_ref(node.fallback)}")
    return "\n".join(lines)


def _body(items: Sequence[BodyItem], plan: Plan, indent: str, owner: str = "") -> Iterator[str]:
    """A body's nodes; inside a control node (`owner`), each after the one it receives from."""
    previous: str | None = None
    if owner and not any(isinstance(item, Node) for item in items):  # a subgraph is never empty
        label = "break" if items else "nothing"
        yield f'{indent}{owner}__none(["{label}"])'
    for item in items:
        if isinstance(item, BreakNode):  # not a node: it leaves the loop
            continue
        yield from _node(item, plan, indent)
        if owner:
            source = item.input if item.input is not None else previous
            if source is not None and source in plan.nodes:
                yield f"{indent}{_ref(source)} --> {_ref(item.id)}"
        previous = item.id


def _node(node: Node, plan: Plan, indent: str) -> Iterator[str]:
    label = f"{node.id}<br/><small>{node.kind_name}</small>"
    bodies = node.bodies()
    if not bodies:
        opening, closing = _SHAPES.get(node.kind, ('["', '"]'))
        yield f"{indent}{_ref(node.id)}{opening}{label}{closing}"
        return
    yield f'{indent}subgraph {_ref(node.id)}["{label}"]'
    if len(bodies) == 1 and node.kind not in _NAMED_BODIES:
        yield from _body(bodies[0].items, plan, indent + "  ", owner=_ref(node.id))
    else:
        for i, body in enumerate(bodies):
            inner = f"{_ref(node.id)}__{i}"
            yield f'{indent}  subgraph {inner}["{_body_name(node, i)}"]'
            yield from _body(body.items, plan, indent + "    ", owner=inner)
            yield f"{indent}  end"
    yield f"{indent}end"


def _body_name(node: Node, index: int) -> str:
    names = {"if": ("then", "else"), "parallel": tuple(f"branch {i}" for i in range(index + 1))}
    if node.kind == "branch":
        cases = getattr(node, "cases", [])
        return f"when {cases[index].when}".replace('"', "'") if index < len(cases) else "default"
    return names.get(node.kind, ())[index] if index < len(names.get(node.kind, ())) else f"body {index}"


def _ref(node_id: str) -> str:
    """A Mermaid id for a node id (ids may hold `-`, and `end` is a keyword)."""
    return "n_" + _UNSAFE.sub("_", node_id)


def write_graph(path: str | os.PathLike[str], plan: Plan) -> None:
    """Writes (or replaces) the `## Graph` section of the workflow file, atomically."""
    from pathlib import Path

    target = Path(path)
    text = target.read_text(encoding="utf-8")
    atomic_write_bytes(target, with_graph(text, mermaid(plan)).encode("utf-8"))

"""From workflow to plan: dependencies between top-level nodes, then waves (docs/language.md#planning).

A top-level node depends on its `input` and on every other top-level node that it, or any
node nested inside it, references in an expression or template; a reference to a nested
node counts as one to its top-level ancestor. Waves come from Kahn's algorithm in time
linear in nodes + edges, each wave in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowscript.compiler.ast import Workflow
from flowscript.compiler.sites import iter_sites
from flowscript.compiler.taint import secret_derived
from flowscript.errors import ExpressionError, SourceLocation, ValidationError
from flowscript.expressions import compile_expression, compile_template
from flowscript.nodes.base import Node, walk
from flowscript.nodes.data import DataNode


@dataclass(frozen=True, slots=True)
class Wave:
    """Top-level nodes whose inputs are all in earlier waves: they may run at once."""

    number: int
    node_ids: tuple[str, ...]


@dataclass(slots=True)
class Plan:
    """What a backend runs: the waves of top-level nodes and a lookup of every node."""

    workflow: Workflow
    waves: list[Wave]
    nodes: dict[str, Node]  # every node by id, nested ones included
    dependencies: dict[str, frozenset[str]]  # scheduled top-level node -> the nodes it waits for
    fallback_only: frozenset[str] = field(default_factory=frozenset)  # run only as fallbacks
    reads: dict[str, frozenset[str]] = field(default_factory=dict)  # node id -> names its own expressions read
    hyphen_ids: frozenset[str] = field(default_factory=frozenset)  # ids holding '-' (`url-list.output`)
    secret_derived: frozenset[str] = field(default_factory=frozenset)  # nodes whose outputs are (compiler/taint.py)
    touches_secret_derived: frozenset[str] = field(default_factory=frozenset)  # nodes that read or make such values

    @property
    def workflow_id(self) -> str:
        return self.workflow.meta.name

    @property
    def total_nodes(self) -> int:
        """Top-level nodes, fallback-only ones included (they are in no wave)."""
        return len(self.workflow.nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "totalNodes": self.total_nodes,
            "waves": [
                {
                    "wave": w.number,
                    "nodes": [
                        {"id": i, "kind": self.nodes[i].kind_name,
                         "dependsOn": sorted(self.dependencies.get(i, ()))}
                        for i in w.node_ids
                    ],
                }
                for w in self.waves
            ],
            "fallbackOnly": sorted(self.fallback_only),
        }


def build_plan(workflow: Workflow) -> Plan:
    """Plans a parsed workflow. Raises ValidationError(VALID_CIRCULAR_DEPENDENCY) on a cycle.

    References to unknown nodes are ignored here; the validator reports them.
    """
    nodes = {n.id: n for n in walk(workflow.nodes)}
    top_of = _top_level_ancestors(workflow)
    refs, reads = _references(workflow, nodes)
    fallback_only = _fallback_only(workflow, refs)

    deps: dict[str, set[str]] = {n.id: set() for n in workflow.nodes if n.id not in fallback_only}
    for node in walk(workflow.nodes):
        top = top_of[node.id]
        if top in fallback_only:
            continue
        targets = set(refs.get(node.id, ()))
        fallback = node.fallback if isinstance(node, DataNode) else None
        if fallback is not None and fallback in nodes:
            # The fallback runs in this node's place: what it reads, this node waits for.
            targets |= {r for n in walk([nodes[fallback]]) for r in refs.get(n.id, ())}
        for target in targets:
            target_top = top_of[target]
            if target_top != top and target_top not in fallback_only:
                deps[top].add(target_top)

    # once each: an id given twice (the validator reports it) must not count twice here
    order = list(dict.fromkeys(n.id for n in workflow.nodes if n.id in deps))
    waves = _kahn_waves(order, deps, nodes, workflow.path)
    frozen_reads = {k: frozenset(v) for k, v in reads.items()}
    derived, touching = secret_derived(workflow, frozen_reads)
    return Plan(workflow, waves, nodes, {k: frozenset(v) for k, v in deps.items()}, frozenset(fallback_only),
                frozen_reads, frozenset(i for i in nodes if "-" in i), derived, touching)


def _top_level_ancestors(workflow: Workflow) -> dict[str, str]:
    return {n.id: top.id for top in workflow.nodes for n in walk([top])}


def _references(workflow: Workflow, nodes: dict[str, Node]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """node id -> ids of the nodes it names (input or expression), and -> every name its expressions read."""
    node_ids = frozenset(nodes)
    refs: dict[str, set[str]] = {}
    reads: dict[str, set[str]] = {}
    for node in walk(workflow.nodes):
        if node.input and node.input in nodes:
            refs.setdefault(node.id, set()).add(node.input)
    for site in iter_sites(workflow):
        try:
            compiled = (compile_expression if site.kind == "expression" else compile_template)(
                site.text, node_ids=node_ids)
        except ExpressionError:
            continue  # the validator reports it
        reads.setdefault(site.owner.id, set()).update(compiled.names)
        named = (compiled.names & node_ids) - site.bound
        if named:
            refs.setdefault(site.owner.id, set()).update(named)
    return refs, reads


def _fallback_only(workflow: Workflow, refs: dict[str, set[str]]) -> set[str]:
    """Fallback targets that nothing else reads: they run only in place of a failed node."""
    targets = {n.fallback for n in walk(workflow.nodes) if isinstance(n, DataNode) and n.fallback}
    read = {r for rs in refs.values() for r in rs}
    return {t for t in targets if t not in read}


def _kahn_waves(order: list[str], deps: dict[str, set[str]], nodes: dict[str, Node],
                file: str | None) -> list[Wave]:
    position = {node_id: i for i, node_id in enumerate(order)}
    dependents: dict[str, list[str]] = {node_id: [] for node_id in order}
    missing = {node_id: len(deps[node_id]) for node_id in order}
    for node_id in order:
        for dep in deps[node_id]:
            dependents[dep].append(node_id)

    waves: list[Wave] = []
    ready = [node_id for node_id in order if missing[node_id] == 0]
    placed = 0
    while ready:
        waves.append(Wave(len(waves), tuple(ready)))
        placed += len(ready)
        following: list[str] = []
        for node_id in ready:
            for dependent in dependents[node_id]:
                missing[dependent] -= 1
                if missing[dependent] == 0:
                    following.append(dependent)
        ready = sorted(following, key=position.__getitem__)
    if placed < len(order):
        cycle = _find_cycle([n for n in order if missing[n] > 0], deps)
        first = nodes[cycle[0]].location
        raise ValidationError(
            f"circular dependency: {' -> '.join([*cycle, cycle[0]])}",
            code="VALID_CIRCULAR_DEPENDENCY",
            hint="remove one of these input/expression references so the nodes can be ordered",
            location=SourceLocation(first.line, first.column, file),
        )
    return waves


def _find_cycle(stuck: list[str], deps: dict[str, set[str]]) -> list[str]:
    """One cycle among the nodes Kahn could not place, in dependency order (iterative DFS)."""
    stuck_set = set(stuck)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in stuck:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, sorted(deps[start] & stuck_set))]
        state[start] = 1
        path.append(start)
        while stack:
            node_id, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node_id] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(deps[nxt] & stuck_set)))
    return stuck  # unreachable: Kahn left these because of a cycle

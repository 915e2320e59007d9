"""Where a workflow holds expressions and templates, and which names are bound there.

One walk over the AST serves the validator (does it parse, are its names known, are its
secrets declared) and the planner (which nodes does it reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from flowscript.compiler.ast import (
    AnyNode,
    BranchNode,
    BreakNode,
    CheckpointNode,
    DataNode,
    ForeachNode,
    IfNode,
    LoopNode,
    ParallelNode,
    WhileNode,
    Workflow,
    walk,
)
from flowscript.errors import SourceLocation
from flowscript.runtime.node_config import EXPRESSION_CONFIG
from flowscript.syntax.source import Location

SiteKind = Literal["expression", "template"]

_SECRET_REF = re.compile(r"\$secrets\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|\$secrets\s*(?:\?\.)?\[\s*(['\"])(.*?)\2\s*\]")

ALWAYS_BOUND = frozenset({"input", "$config", "$secrets", "$context"})
ITEM_NAMES = frozenset({"$item", "$index", "$first", "$last", "$items"})
FALLBACK_NAMES = frozenset({"$primaryError", "$primaryInput"})
MERGE_KEYWORDS = frozenset({"array", "concat", "object"})



@dataclass(frozen=True, slots=True)
class Site:
    """One expression or template in the file."""

    owner: AnyNode
    key: str
    text: str
    kind: SiteKind
    location: Location | None
    bound: frozenset[str]  # names bound at this site beyond node ids and ALWAYS_BOUND


def fallback_targets(workflow: Workflow) -> set[str]:
    return {n.on_error.fallback for n in walk(workflow.nodes)
            if isinstance(n, DataNode) and n.on_error and n.on_error.fallback}


def iter_sites(workflow: Workflow) -> Iterator[Site]:
    """Every expression/template site of the workflow, in source order."""
    fallbacks = fallback_targets(workflow)
    yield from _walk_body(workflow.nodes, frozenset(), fallbacks)


def _walk_body(items: list[Any], bound: frozenset[str], fallbacks: set[str]) -> Iterator[Site]:
    for item in items:
        if isinstance(item, BreakNode):
            continue
        here = bound | FALLBACK_NAMES if item.id in fallbacks else bound
        yield from _node_sites(item, here, fallbacks)


def _node_sites(node: AnyNode, bound: frozenset[str], fallbacks: set[str]) -> Iterator[Site]:
    def site(key: str, text: str | None, kind: SiteKind, extra: frozenset[str] = frozenset()) -> Iterator[Site]:
        if text is not None:
            yield Site(node, key, text, kind, node.value_locations.get(key), bound | extra)

    match node:
        case DataNode():
            expression_keys = EXPRESSION_CONFIG.get(f"{node.kind}:{node.type}", frozenset())
            for key, value in node.config.items():
                if key in expression_keys and isinstance(value, str):
                    yield from site(key, value, "expression", ITEM_NAMES)
                else:
                    for text in _strings(value):
                        yield from site(key, text, "template")
        case IfNode():
            yield from site("condition", node.condition, "expression")
            yield from _walk_body(node.then, bound, fallbacks)
            yield from _walk_body(node.else_ or [], bound, fallbacks)
        case BranchNode():
            for case in node.cases:
                yield Site(node, "when", case.when, "expression", case.when_location, bound)
                yield from _walk_body(case.body, bound, fallbacks)
            yield from _walk_body(node.default or [], bound, fallbacks)
        case LoopNode():
            iteration = frozenset({"$iteration"})
            yield from site("max", node.max, "template")
            yield from site("break", node.break_, "expression", iteration)
            yield from _walk_body(node.body, bound | iteration, fallbacks)
        case WhileNode():
            iteration = frozenset({"$iteration"})
            yield from site("max", node.max, "template")
            yield from site("condition", node.condition, "expression", iteration)
            yield from _walk_body(node.body, bound | iteration, fallbacks)
        case ForeachNode():
            yield from site("collection", node.collection, "expression")
            yield from site("concurrency", node.concurrency, "template")
            yield from _walk_body(node.body, bound | {node.item, node.index}, fallbacks)
        case ParallelNode():
            yield from site("concurrency", node.concurrency, "template")
            if node.merge not in MERGE_KEYWORDS:
                yield from site("merge", node.merge, "expression", frozenset({"$branches"}))
            for branch in node.branches:
                yield from _walk_body(branch.body, bound | {"$branch"}, fallbacks)
        case CheckpointNode():
            yield from site("prompt", node.prompt, "template")
            yield from site("timeout", node.timeout, "template")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def position_in_file(site: Site, offset: int | None, file: str | None) -> SourceLocation | None:
    """Maps a 0-based offset inside a site's text to a file line/column (multi-line texts too)."""
    if site.location is None:
        return None
    if offset is None:
        return SourceLocation(site.location.line, site.location.column, file)
    before = site.text[:offset]
    newlines = before.count("\n")
    if newlines == 0:
        return SourceLocation(site.location.line, site.location.column + offset, file)
    return SourceLocation(site.location.line + newlines, offset - before.rfind("\n"), file)


def secret_references(text: str) -> Iterator[tuple[str, int]]:
    """`$secrets.NAME` / `$secrets['NAME']` uses in an expression or template, with offsets."""
    for match in _SECRET_REF.finditer(text):
        yield match.group(1) or match.group(3), match.start()


def used_secrets(workflow: Workflow) -> set[str]:
    """The secret names the workflow's expressions read: a run needs values for these."""
    return {name for site in iter_sites(workflow) for name, _ in secret_references(site.text)}

"""Where a workflow holds expressions and templates, and which names are bound there.

One walk over the AST serves the validator (does it parse, are its names known, are its
secrets declared) and the planner (which nodes does it reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from flowscript.compiler.ast import Workflow
from flowscript.errors import SourceLocation
from flowscript.nodes.base import BodyItem, BreakNode, Node, walk
from flowscript.nodes.data import DataNode
from flowscript.syntax.source import Location

SiteKind = Literal["expression", "template"]

_SECRET_REF = re.compile(r"\$secrets\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)|\$secrets\s*(?:\?\.)?\[\s*(['\"])(.*?)\2\s*\]")

ALWAYS_BOUND = frozenset({"input", "$config", "$secrets", "$context"})
FALLBACK_NAMES = frozenset({"$primaryError", "$primaryInput"})


@dataclass(frozen=True, slots=True)
class Site:
    """One expression or template in the file."""

    owner: Node
    key: str
    text: str
    kind: SiteKind
    location: Location | None
    bound: frozenset[str]  # names bound at this site beyond node ids and ALWAYS_BOUND


def fallback_targets(workflow: Workflow) -> set[str]:
    return {n.fallback for n in walk(workflow.nodes) if isinstance(n, DataNode) and n.fallback}


def iter_sites(workflow: Workflow) -> Iterator[Site]:
    """Every expression/template site of the workflow, in source order."""
    fallbacks = fallback_targets(workflow)
    yield from _walk_body(workflow.nodes, frozenset(), fallbacks)


def _walk_body(items: Sequence[BodyItem], bound: frozenset[str], fallbacks: set[str]) -> Iterator[Site]:
    for item in items:
        if isinstance(item, BreakNode):
            continue
        here = bound | FALLBACK_NAMES if item.id in fallbacks else bound
        for own in item.sites():
            yield Site(item, own.key, own.text, own.kind, own.location, here | own.binds)
        for body in item.bodies():
            yield from _walk_body(body.items, here | body.binds, fallbacks)


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

"""YAML read safely and within bounds: the one rule for every YAML the project reads, the
frontmatter (compiler/frontmatter.py) and a file source's `.yaml` data (nodes/io/file_formats.py).

- The safe loader only: no tag ever constructs an object.
- Anchors and aliases are allowed, but a recursive alias, or aliases that expand to more
  than 100,000 values (an alias bomb, "billion laughs": seven levels of ten aliases are 359
  bytes and ten million values), are refused before anything walks the data.
- Flow collections (`[...]`, `{...}`) nested more than 100 deep are refused before the YAML
  library reads them (brackets inside quoted text count too): its scanner is quadratic in the
  open flow levels.

A refusal is `UnsafeYaml`, with the offset in the text where it was found; YAML's own errors
(`yaml.YAMLError`) pass through for the caller to report in its terms.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_EXPANDED_VALUES = 100_000
MAX_FLOW_DEPTH = 100  # `[` / `{` open at once, counted naively (quotes included)
_BRACKETS = re.compile(r"[\[\]{}]")


class UnsafeYaml(ValueError):
    """YAML refused for its shape, not its syntax: `problem` says what the YAML does ("has a
    recursive alias"), `offset` where in the text."""

    def __init__(self, problem: str, offset: int) -> None:
        super().__init__(f"the YAML {problem}")
        self.problem = problem
        self.offset = offset


def load_yaml_text(text: str) -> tuple[Node | None, Any]:
    """The composed node tree (for locations) and the safely constructed data of one document."""
    check_flow_depth(text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        check_aliases(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def check_flow_depth(text: str) -> None:
    """Refuses `[[[[...` before the YAML library sees it (2,000 levels took seconds before
    failing on Python's recursion limit)."""
    depth = 0
    for bracket in _BRACKETS.finditer(text):
        depth = depth + 1 if bracket.group() in "[{" else max(0, depth - 1)
        if depth > MAX_FLOW_DEPTH:
            raise UnsafeYaml(f"is nested too deeply (more than {MAX_FLOW_DEPTH} levels of [ ] or {{ }})",
                             bracket.start())


def check_aliases(root: Node) -> None:
    """Refuses recursive aliases and alias bombs: counts the values each node expands to, each
    node once (an alias is the node it names, so the walk is as long as the text, not the data)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            in_progress.discard(key)
            sizes[key] = total
            if total > MAX_EXPANDED_VALUES:
                raise UnsafeYaml(f"expands to too many values through its aliases (more than "
                                 f"{MAX_EXPANDED_VALUES:,}: an alias bomb?)", node.start_mark.index)
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise UnsafeYaml("has a recursive alias", node.start_mark.index)
        in_progress.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in in_progress:
                raise UnsafeYaml("has a recursive alias", child.start_mark.index)
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []

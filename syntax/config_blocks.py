"""`key: value` blocks: the text of a config element read as a nested mapping (docs/language.md#data-nodes).

A block is a YAML-like subset, read by hand so that values stay exactly as written: every
value is a string, split off its key at the first `: `, so URLs, colons and `{{...}}`
survive (`url: http://host:8080/x?a={{b}}`), and nothing is unquoted or converted.

- A line is `key: value` or `key:`; a key is letters, digits and `_ $ . -` (no spaces,
  no colon), so prose and expressions do not read as keys.
- `key:` with nothing after it opens a nested mapping of the more-indented lines below
  it; with no such lines its value is the empty string.
- Lines of one mapping share one indentation; indentation is the line's column in the
  file (tabs count as one column). A first line written on the opening tag's line
  (`<request>method: GET`) takes the indentation of the lines under it.
- A key given twice in one mapping makes the text not a block.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowscript.syntax.xml_reader import Span

_LINE = re.compile(r"([A-Za-z0-9_$][A-Za-z0-9_.$\-]*):(?:[ \t]+(.*))?")


@dataclass(frozen=True, slots=True)
class Block:
    """The mapping, and the file offsets of each value and key by dotted path (`headers.Accept`)."""

    value: dict[str, Any]
    locations: dict[str, int]
    key_offsets: dict[str, int]


@dataclass(frozen=True, slots=True)
class NotABlock:
    """Why the text is not `key: value` lines, and the file offset of the offending line."""

    reason: str
    offset: int


@dataclass(slots=True)
class _Line:
    """One `key: value` line of a block, with the offsets its errors point at."""

    indent: int
    key: str
    value: str | None  # None: `key:` opening a nested mapping
    key_offset: int
    value_offset: int


def non_empty_lines(span: Span) -> int:
    return sum(1 for line in span.text.split("\n") if line.strip())


def read_block(span: Span, column_of: Callable[[int], int]) -> Block | NotABlock:
    """Reads the whole text as `key: value` lines (empty text: an empty mapping)."""
    lines = _lines(span, column_of)
    if isinstance(lines, NotABlock):
        return lines
    return _nest(lines)


def _lines(span: Span, column_of: Callable[[int], int]) -> list[_Line] | NotABlock:
    found: list[_Line] = []
    shares_tag_line = False
    index = 0
    for raw in span.text.split("\n"):
        content = raw.lstrip(" \t")
        lead = index + len(raw) - len(content)
        index += len(raw) + 1
        content = content.rstrip()
        if not content:
            continue
        match = _LINE.fullmatch(content)
        offset = span.raw_offset(lead)
        if match is None:
            return NotABlock("this line is not 'key: value'", offset)
        if not found:
            shares_tag_line = "\n" not in span.text[:lead]
        value = match.group(2)
        value_at = lead + match.start(2) if value is not None else lead
        found.append(_Line(column_of(offset) - 1, match.group(1),
                           value.strip() if value is not None else None,
                           offset, span.raw_offset(value_at)))
    if shares_tag_line and found:
        first = found[0]
        if first.value is None:
            first.indent = -1
        elif len(found) > 1:
            first.indent = found[1].indent
    return found


def _nest(lines: list[_Line]) -> Block | NotABlock:
    root: dict[str, Any] = {}
    locations: dict[str, int] = {}
    key_offsets: dict[str, int] = {}
    # open mappings: [indent of their keys (None until their first line), mapping, dotted prefix]
    stack: list[tuple[int | None, dict[str, Any], str]] = [(None, root, "")]
    opener: tuple[_Line, dict[str, Any], str] | None = None
    for line in lines:
        if opener is not None:
            parent_line, parent, prefix = opener
            opener = None
            if line.indent > parent_line.indent:
                nested: dict[str, Any] = {}
                parent[parent_line.key] = nested
                stack.append((None, nested, f"{prefix}{parent_line.key}."))
            else:
                parent[parent_line.key] = ""
        while len(stack) > 1 and stack[-1][0] is not None and line.indent < stack[-1][0]:
            stack.pop()
        indent, mapping, prefix = stack[-1]
        if indent is None:
            stack[-1] = (line.indent, mapping, prefix)
        elif line.indent != indent:
            return NotABlock("this line's indentation does not match the lines above it", line.key_offset)
        if line.key in mapping:
            return NotABlock(f"key '{line.key}' is given twice", line.key_offset)
        locations[prefix + line.key] = line.value_offset
        key_offsets[prefix + line.key] = line.key_offset
        if line.value is None:
            mapping[line.key] = ""
            opener = (line, mapping, prefix)
        else:
            mapping[line.key] = line.value
    return Block(root, locations, key_offsets)

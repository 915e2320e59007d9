"""The lenient XML reader of the workflow body (docs/language.md#the-body), with exact positions.

No XML library accepts what workflow authors write in expressions (`a <= 5 && b`), so this
is a small hand-written reader. It runs in linear time: every scan moves forward, and the
look-ahead that decides whether a `<` opens a tag never crosses another `<`.

Rules, in the order they are tried at a `<`:

- `<!-- ... -->` is a comment (ignored); `<![CDATA[ ... ]]>` is literal text.
- `<!DOCTYPE`, `<!ENTITY` (and the other DTD declarations) and processing instructions
  `<?name ...` are refused: no DTD is ever read, no entity ever defined (XXE-safe).
- `</name` is a closing tag; it must end with `>`.
- `<name` is a start tag when the name is followed by `>`, `/>`, or whitespace and then
  `>`, `/>` or `attribute=`. Anything else (`<=`, `< 5`, `<5`, `a<b && c`) is literal text.
- Attribute values are quoted with `"` or `'` and may hold `<`, `>` and `&&`.
- `&lt; &gt; &amp; &quot; &apos;` are decoded in text and attribute values; any other `&`
  is literal; no other entity (numeric ones included) is resolved.

Reading stops at the `</workflow>` that closes the root: what follows is documentation.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from flowscript.errors import FlowScriptError
from flowscript.syntax.source import Source

MAX_DEPTH = 100
WHITESPACE = " \t\n\r"
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}
_DTD_WORDS = ("DOCTYPE", "ENTITY", "ELEMENT", "ATTLIST", "NOTATION")
_NAME_RUN = re.compile(r"[\w.:-]*")  # the characters of a tag or attribute name (one pass, no backtracking)
_SPACE_RUN = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True, slots=True)
class Span:
    """Decoded text and where its characters came from: entities make the two differ."""

    text: str
    anchors: tuple[tuple[int, int], ...]  # (index in text, raw offset), sorted, first at index 0

    def raw_offset(self, index: int) -> int:
        """The file offset of the character at `index` of the decoded text."""
        i = bisect.bisect_right(self.anchors, (index, float("inf"))) - 1
        at, raw = self.anchors[max(i, 0)]
        return raw + index - at

    def trimmed(self) -> tuple[str, int]:
        """The text without surrounding whitespace, and the file offset of its first character
        (of the whole text when it is blank)."""
        stripped = self.text.strip()
        lead = len(self.text) - len(self.text.lstrip()) if stripped else 0
        return stripped, self.raw_offset(lead)

    @staticmethod
    def join(spans: list[Span], offset: int) -> Span:
        """One span of several pieces (empty at `offset` when there are none)."""
        if not spans:
            return Span("", ((0, offset),))
        parts: list[str] = []
        anchors: list[tuple[int, int]] = []
        length = 0
        for span in spans:
            anchors.extend((at + length, raw) for at, raw in span.anchors)
            parts.append(span.text)
            length += len(span.text)
        return Span("".join(parts), tuple(anchors))


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute as written: its value's span maps every character back to the file."""

    name: str
    value: Span
    offset: int  # of the name


@dataclass(frozen=True, slots=True)
class Text:
    """Text between elements, kept so a stray character can be reported where it is."""

    span: Span


@dataclass(slots=True)
class Element:
    """An element and its children, with the offsets errors point at."""

    tag: str
    offset: int  # of the `<`
    attributes: dict[str, Attribute] = field(default_factory=dict)
    children: list[Element | Text] = field(default_factory=list)
    content_offset: int = 0  # just after the start tag's `>`

    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]

    def text(self) -> Span:
        """All the element's own text (child elements left out), as one span."""
        return Span.join([c.span for c in self.children if isinstance(c, Text)], self.content_offset)


def decode(text: str, start: int, end: int) -> Span:
    """text[start:end] with the five predefined entities decoded; any other `&` stays."""
    amp = text.find("&", start, end)
    if amp < 0:
        return Span(text[start:end], ((0, start),))
    parts: list[str] = []
    anchors: list[tuple[int, int]] = [(0, start)]
    length = 0
    pos = start  # start of the literal text not yet copied
    while amp >= 0:
        for entity, char in _ENTITIES.items():
            if text.startswith(entity, amp, end):
                parts.append(text[pos:amp])
                parts.append(char)
                length += amp - pos + 1
                pos = amp + len(entity)
                anchors.append((length, pos))
                break
        amp = text.find("&", max(amp + 1, pos), end)
    parts.append(text[pos:end])
    return Span("".join(parts), tuple(anchors))


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


class _Reader:
    """Builds the element tree of the `<workflow>` element; the first syntax error is fatal."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.text = source.text
        self.n = len(self.text)

    def fail(self, message: str, offset: int, hint: str | None = None) -> FlowScriptError:
        return self.source.error("PARSE_XML_INVALID", message, offset, hint)

    def name_end(self, pos: int) -> int:
        return _NAME_RUN.match(self.text, pos).end()  # type: ignore[union-attr]  # `*` always matches

    def skip_space(self, pos: int) -> int:
        return _SPACE_RUN.match(self.text, pos).end()  # type: ignore[union-attr]

    # ------------------------------------------------------------------ classification
    def classify(self, lt: int) -> str | None:
        """What the `<` at `lt` opens, or None when it is literal text."""
        text = self.text
        nxt = text[lt + 1:lt + 2]
        if nxt == "!":
            if text.startswith("<!--", lt):
                return "comment"
            if text.startswith("<![CDATA[", lt):
                return "cdata"
            word = text[lt + 2:lt + 10].upper()
            return "dtd" if any(word.startswith(w) for w in _DTD_WORDS) else None
        if nxt == "?":
            return "pi" if _is_name_start(text[lt + 2:lt + 3] or " ") else None
        if nxt == "/":
            return "end" if _is_name_start(text[lt + 2:lt + 3] or " ") else None
        if nxt and _is_name_start(nxt) and self.looks_like_tag(lt + 1):
            return "start"
        return None

    def looks_like_tag(self, pos: int) -> bool:
        text = self.text
        pos = self.name_end(pos)
        if text.startswith((">", "/>"), pos):
            return True
        if pos >= self.n or text[pos] not in WHITESPACE:
            return False
        pos = self.skip_space(pos)
        if text.startswith((">", "/>"), pos):
            return True
        if pos >= self.n or not _is_name_start(text[pos]):
            return False
        pos = self.skip_space(self.name_end(pos))
        return text.startswith("=", pos)

    # ------------------------------------------------------------------ tags
    def start_tag(self, lt: int) -> tuple[Element, int, bool]:
        """Reads `<name attr="v" ...>` or `.../>`: the element, the offset after it, self-closing."""
        text = self.text
        end = self.name_end(lt + 1)
        element = Element(text[lt + 1:end], lt)
        pos = end
        while True:
            after_space = self.skip_space(pos)
            if text.startswith(">", after_space):
                element.content_offset = after_space + 1
                return element, after_space + 1, False
            if text.startswith("/>", after_space):
                element.content_offset = after_space + 2
                return element, after_space + 2, True
            if after_space >= self.n or not _is_name_start(text[after_space]):
                where = after_space if after_space < self.n else lt
                line = self.source.location(lt).line
                raise self.fail(f"the start tag <{element.tag}> is not closed", where,
                                hint=f"end it with '>' (or '/>'); it opens at line {line}")
            if after_space == pos:
                raise self.fail(f"attributes of <{element.tag}> need whitespace between them", pos)
            pos = self.attribute(element, after_space)

    def attribute(self, element: Element, pos: int) -> int:
        text = self.text
        name_end = self.name_end(pos)
        name = text[pos:name_end]
        eq = self.skip_space(name_end)
        if not text.startswith("=", eq):
            raise self.fail(f"attribute '{name}' of <{element.tag}> has no value", pos,
                            hint=f'write {name}="..."')
        quote_at = self.skip_space(eq + 1)
        quote = text[quote_at:quote_at + 1]
        if quote not in ('"', "'"):
            raise self.fail(f"the value of attribute '{name}' must be quoted", quote_at,
                            hint=f'write {name}="..."')
        close = text.find(quote, quote_at + 1)
        if close < 0:
            raise self.fail(f"the value of attribute '{name}' is never closed", quote_at,
                            hint=f"add the closing {quote}")
        if name in element.attributes:
            raise self.fail(f"attribute '{name}' is given twice in <{element.tag}>", pos,
                            hint="keep one of them")
        element.attributes[name] = Attribute(name, decode(text, quote_at + 1, close), pos)
        return close + 1

    def end_tag(self, lt: int) -> tuple[str, int]:
        end = self.name_end(lt + 2)
        close = self.skip_space(end)
        if not self.text.startswith(">", close):
            raise self.fail(f"the closing tag </{self.text[lt + 2:end]}> is not closed", lt,
                            hint="end it with '>'")
        return self.text[lt + 2:end], close + 1

    # ------------------------------------------------------------------ the tree
    def read(self, start: int) -> Element:
        root, pos, closed = self.start_tag(start)
        if closed:
            return root
        stack = [root]
        text, text_start = self.text, pos
        while True:
            lt = text.find("<", pos)
            if lt < 0:
                self.flush(stack[-1], text_start, self.n)
                open_el = stack[-1]
                also = f" (and </{root.tag}> after it)" if len(stack) > 1 else ""
                raise self.fail(f"<{open_el.tag}> is never closed", open_el.offset,
                                hint=f"add </{open_el.tag}>{also}")
            kind = self.classify(lt)
            if kind is None:
                pos = lt + 1
                continue
            self.flush(stack[-1], text_start, lt)
            if kind == "comment":
                close = text.find("-->", lt + 4)
                if close < 0:
                    raise self.fail("the comment is never closed", lt, hint="end it with -->")
                pos = close + 3
            elif kind == "cdata":
                close = text.find("]]>", lt + 9)
                if close < 0:
                    raise self.fail("the CDATA section is never closed", lt, hint="end it with ]]>")
                stack[-1].children.append(Text(Span(text[lt + 9:close], ((0, lt + 9),))))
                pos = close + 3
            elif kind == "dtd":
                raise self.fail("DTDs are not allowed (no <!DOCTYPE> or <!ENTITY> declarations)", lt,
                                hint="only &lt; &gt; &amp; &quot; &apos; are decoded, never any other entity")
            elif kind == "pi":
                raise self.fail("processing instructions <?...?> are not allowed in the workflow", lt)
            elif kind == "end":
                name, pos = self.end_tag(lt)
                self.close(stack, name, lt)
                if not stack:
                    return root
            else:
                element, pos, closed = self.start_tag(lt)
                stack[-1].children.append(element)
                if not closed:
                    if len(stack) >= MAX_DEPTH:
                        raise self.fail(f"elements are nested too deeply (more than {MAX_DEPTH} levels)", lt)
                    stack.append(element)
            text_start = pos

    def close(self, stack: list[Element], name: str, lt: int) -> None:
        open_el = stack[-1]
        if name == open_el.tag:
            stack.pop()
            return
        where = self.source.location(open_el.offset)
        opened = f"<{open_el.tag}> (line {where.line}, column {where.column})"
        if any(e.tag == name for e in stack):
            raise self.fail(f"</{name}> closes <{name}> but {opened} is still open", lt,
                            hint=f"close it first with </{open_el.tag}>; a literal '<' in text is written "
                            "'&lt;' or followed by a space")
        raise self.fail(f"</{name}> does not match any open element; {opened} is open", lt,
                        hint=f"did you mean </{open_el.tag}>?")

    def flush(self, parent: Element, start: int, end: int) -> None:
        if end > start:
            parent.children.append(Text(decode(self.text, start, end)))


def read_element(source: Source, start: int) -> Element:
    """The element whose start tag's `<` is at `start`, read up to its closing tag."""
    return _Reader(source).read(start)


def find_workflow(source: Source, start: int) -> int | None:
    """Offset of the first `<workflow` start tag at or after `start`, outside Markdown code.

    Occurrences inside fenced code blocks (``` or ~~~) and inside inline code spans (after an
    odd number of backticks on their line) are documentation, not the program.
    """
    text = source.text
    fence: str | None = None
    pos = start
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        marker = line.lstrip(" ")
        if len(line) - len(marker) <= 3 and marker.startswith(("```", "~~~")):
            run = len(marker) - len(marker.lstrip(marker[0]))
            if fence is None:
                fence = marker[0] * run
            elif marker.startswith(fence) and not marker[run:].strip():
                fence = None
        elif fence is None:
            found, ticks, counted = line.find("<workflow"), 0, 0
            while found >= 0:
                ticks, counted = ticks + line.count("`", counted, found), found
                after = line[found + 9:found + 10]
                starts_tag = after in ("", ">", " ", "\t") or line.startswith("/>", found + 9)
                if starts_tag and ticks % 2 == 0:
                    return pos + found
                found = line.find("<workflow", found + 1)
        pos = end + 1
    return None

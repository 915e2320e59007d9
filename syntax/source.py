"""The file being read: its normalised text, positions in it, and the problems found so far.

`Source` holds the text with line ends normalised (CRLF and a lone CR become LF, a leading
BOM is dropped) so that every position is a line of LF-ended text, the table that turns an
offset into a 1-based line and column (in characters), and the problems found while
reading. Every stage that reads text (frontmatter, XML, node elements) reports through it,
so one pass shows every problem.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from flowscript.errors import FlowScriptError, MultipleErrors, ParseError, SourceLocation, ValidationError


@dataclass(frozen=True, slots=True)
class Location:
    """1-based line and column of an element's `<`, or of an attribute value / element text."""

    line: int
    column: int



@dataclass
class Source:
    """The normalised file text, its line table and the problems found while reading it."""

    text: str
    file: str | None = None
    problems: list[FlowScriptError] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list)

    @classmethod
    def from_text(cls, raw: str, file: str | None = None) -> Source:
        text = raw[1:] if raw.startswith("\ufeff") else raw
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        return cls(text, file, [], starts)

    def location(self, offset: int) -> Location:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Location(line=line + 1, column=offset - self._line_starts[line] + 1)

    def error(self, code: str, message: str, at: int | Location, hint: str | None = None) -> FlowScriptError:
        """A ParseError (PARSE_*) or ValidationError (VALID_*) located at an offset or a Location."""
        where = at if isinstance(at, Location) else self.location(at)
        kind = ParseError if code.startswith("PARSE_") else ValidationError
        location = SourceLocation(where.line, where.column, self.file)
        return kind(message, code=code, hint=hint, location=location)

    def report(self, code: str, message: str, at: int | Location, hint: str | None = None) -> None:
        """Records a problem and lets the caller keep going, so one run shows them all."""
        self.problems.append(self.error(code, message, at, hint))

    def combined(self) -> FlowScriptError:
        """The problems found, in file order: the one error, or a MultipleErrors of them all."""
        found = sorted(self.problems, key=_position)
        return found[0] if len(found) == 1 else MultipleErrors(found)


def _position(error: FlowScriptError) -> tuple[int, int]:
    loc = error.location
    return (loc.line, loc.column) if loc else (0, 0)


def hint_with(close: str | None, rest: str) -> str:
    """A hint that starts with "did you mean ...?" when there is a close match."""
    return f"{close} {rest}" if close else rest


def did_you_mean(word: str, choices: Iterable[str], fmt: str = "'{}'") -> str | None:
    """A "did you mean" phrase for the closest choice, when one is close enough."""
    import difflib  # only for hints: a valid workflow never loads it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {fmt.format(close[0])}?" if close else None

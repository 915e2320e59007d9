"""Tokens of an expression, with their 0-based offsets.

Hand-written rather than generated, for three reasons: a workflow node id such as
`url-list` is one name only when that id exists (so the lexer must know the ids), JS
string escapes need real decoding, and every error must point at the exact character.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from flowscript.errors import ExpressionError

NUM, STR, NAME, PUNCT, EOF = "number", "string", "name", "punct", "end"

_WS = re.compile(r"[\s\ufeff]+")
_NAME = re.compile(r"(?:[^\W\d]|\$)[\w$]*")
_HYPHENATED = re.compile(r"(?:[^\W\d]|\$)[\w$]*(?:-[\w$]+)+")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
_DIGITS = frozenset("0123456789")
_STRING_BODY = {"'": re.compile(r"[^'\\]*"), '"': re.compile(r'[^"\\]*')}
_PUNCT = re.compile(r"===|!==|\*\*|\?\?|\?\.(?!\d)|=>|==|!=|<=|>=|&&|\|\||[-+*/%!<>?:.,()\[\]{}]")
_IDENT_CHAR = re.compile(r"[\w$]")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_BAD_CHARS = {
    "=": "assignment is not allowed (compare with == or ===)",
    ";": "statements are not allowed: ';' cannot appear in an expression",
    "`": "template literals (backticks) are not supported; use '+' or a {{ }} template",
    "&": "bitwise operators are not supported (did you mean '&&'?)",
    "|": "bitwise operators are not supported (did you mean '||'?)",
    "^": "bitwise operators are not supported",
    "~": "bitwise operators are not supported",
    "#": "private names are not supported",
    "@": "decorators are not supported",
    "\\": "a backslash is only allowed inside a string",
}


@dataclass(frozen=True, slots=True)
class Token:
    """A token with its span, so the parser's errors point into the source."""

    kind: str
    value: object
    pos: int
    end: int

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind == EOF:
            return "the end of the expression"
        if self.kind == STR:
            return "a string"
        if self.kind == NUM:
            return f"the number {self.value}" if isinstance(self.value, int) else "a number"
        if self.kind == NAME:
            return f"'{self.value}'"
        return f"'{self.value}'"


def error(message: str, source: str, pos: int, code: str = "EXPR_PARSE_ERROR",
          hint: str | None = None) -> ExpressionError:
    """An ExpressionError pointing at `pos` in `source`."""
    return ExpressionError(message, code=code, expression=source, position=pos, hint=hint)


def tokenize(source: str, hyphen_ids: Collection[str] = ()) -> list[Token]:
    """Splits source into tokens; `hyphen_ids` are the node ids containing '-' that exist."""
    tokens: list[Token] = []
    pos = 0
    n = len(source)
    append = tokens.append
    while True:
        m = _WS.match(source, pos)
        if m:
            pos = m.end()
        if pos >= n:
            break
        ch = source[pos]
        if ch == "'" or ch == '"':
            value, end = _string(source, pos)
            append(Token(STR, value, pos, end))
            pos = end
            continue
        if ch in _DIGITS or (ch == "." and pos + 1 < n and source[pos + 1] in _DIGITS):
            m = _NUMBER.match(source, pos)
            assert m is not None
            end = m.end()
            if end < n and _IDENT_CHAR.match(source, end):
                raise error("a name cannot start right after a number", source, end)
            append(Token(NUM, _number(m.group()), pos, end))
            pos = end
            continue
        m = _NAME.match(source, pos)
        if m:
            end = m.end()
            if hyphen_ids and end < n and source[end] == "-" and not _after_dot(tokens):
                end = _hyphenated_end(source, pos, end, hyphen_ids)
            append(Token(NAME, source[pos:end], pos, end))
            pos = end
            continue
        if ch == "." and source.startswith("...", pos):
            raise error("spread syntax ('...') is not supported", source, pos)
        m = _PUNCT.match(source, pos)
        if m:
            append(Token(PUNCT, m.group(), pos, m.end()))
            pos = m.end()
            continue
        raise error(_BAD_CHARS.get(ch, f"unexpected character {ch!r}"), source, pos)
    tokens.append(Token(EOF, None, n, n))
    return tokens


def _after_dot(tokens: list[Token]) -> bool:
    """A property name after '.' or '?.' is never a node id."""
    return bool(tokens) and tokens[-1].kind == PUNCT and tokens[-1].value in (".", "?.")


def _hyphenated_end(source: str, start: int, end: int, hyphen_ids: Collection[str]) -> int:
    """The end of the longest known hyphenated id starting at `start`, else `end`."""
    m = _HYPHENATED.match(source, start)
    if not m:
        return end
    text = m.group()
    cut = len(text)
    while cut > end - start:
        if text[:cut] in hyphen_ids:
            return start + cut
        cut = text.rfind("-", 0, cut)
    return end


def _number(text: str) -> int | float:
    prefix = text[:2]
    if prefix in ("0x", "0X", "0o", "0O", "0b", "0B"):
        value = int(text[2:], {"x": 16, "o": 8, "b": 2}[prefix[1].lower()])
        return value if value <= 2**53 else float(value)
    if "." in text or "e" in text or "E" in text or len(text) > 15:
        return float(text)
    return int(text)


def _string(source: str, start: int) -> tuple[str, int]:
    """Decodes a quoted string starting at `start`; returns (value, end offset)."""
    quote = source[start]
    body = _STRING_BODY[quote]
    parts: list[str] = []
    pos = start + 1
    n = len(source)
    while True:
        stop = body.match(source, pos).end()  # type: ignore[union-attr]
        parts.append(source[pos:stop])
        if stop >= n:
            raise error("unterminated string (missing closing quote)", source, start)
        if source[stop] == quote:
            return _fix_surrogates("".join(parts)), stop + 1
        value, pos = _escape(source, stop)
        parts.append(value)


def _escape(source: str, pos: int) -> tuple[str, int]:
    """One backslash escape at `pos`; returns (decoded text, offset after it)."""
    n = len(source)
    if pos + 1 >= n:
        raise error("unterminated string (missing closing quote)", source, pos)
    c = source[pos + 1]
    if c in _ESCAPES and not (c == "0" and pos + 2 < n and source[pos + 2].isdigit()):
        return _ESCAPES[c], pos + 2
    if c == "x":
        digits = source[pos + 2 : pos + 4]
        if len(digits) == 2 and all(d in "0123456789abcdefABCDEF" for d in digits):
            return chr(int(digits, 16)), pos + 4
        raise error("invalid \\x escape: expected two hex digits", source, pos)
    if c == "u":
        if source.startswith("{", pos + 2):
            close = source.find("}", pos + 3)
            digits = source[pos + 3 : close] if close != -1 else ""
            if digits and len(digits) <= 6 and all(d in "0123456789abcdefABCDEF" for d in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF:
                    return chr(code), close + 1
            raise error("invalid \\u{...} escape", source, pos)
        digits = source[pos + 2 : pos + 6]
        if len(digits) == 4 and all(d in "0123456789abcdefABCDEF" for d in digits):
            return chr(int(digits, 16)), pos + 6
        raise error("invalid \\u escape: expected four hex digits", source, pos)
    if c in "\r\n\u2028\u2029":  # line continuation
        end = pos + 2
        if c == "\r" and source.startswith("\n", end):
            end += 1
        return "", end
    if c.isdigit():
        raise error("octal escapes are not allowed in strings", source, pos)
    return c, pos + 2


_SURROGATES = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _join_pair(m: re.Match[str]) -> str:
    high, low = m.group()[0], m.group()[1]
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + ord(low) - 0xDC00)


def _fix_surrogates(text: str) -> str:
    """Joins \\uD83D\\uDE00-style pairs into one character; a lone half becomes U+FFFD."""
    if not _SURROGATES.search(text):
        return text
    text = _PAIR.sub(_join_pair, text)
    return _SURROGATES.sub("\ufffd", text)

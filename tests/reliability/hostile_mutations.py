"""A corpus of hostile .flow.md files: the shipped examples, mutated.

`corpus(n, seed)` is deterministic: the same seed gives the same files, so a failure names
a case that can be rebuilt (`case_bytes(seed, index)`). Each case applies one to four
mutations to one example, at the byte, line, tag, attribute or structure level:

- bytes: delete a span, duplicate a span, truncate the file, insert invalid UTF-8;
- lines: delete, duplicate, swap, change line endings;
- tags: cut a tag short; scramble a tag's attributes (shuffle values, swap names, drop or
  change quotes, repeat an attribute, put a hostile value in);
- text: insert hostile unicode (NUL, BOM, bidi overrides, line separators, lone
  surrogates written as invalid UTF-8, emoji, combining marks, fullwidth `<`);
- structure: nest a node 20 to 5,000 levels deep (if, foreach, parallel, unknown
  elements), nest YAML flow collections or block mappings, nest an expression's brackets;
- attacks: DTDs and entities (billion laughs, external entities), YAML alias bombs and
  python tags, sandbox escapes and huge values in expressions, `..` and absolute paths,
  references rewired into cycles or to nodes that do not exist.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "flows" / "examples").glob("*.flow.md"))

HOSTILE_TEXT = [
    "\x00", "\ufeff", "\u202e", "\u2028", "\u2029", "\x1b[31m", "\r", "\r\n", "\t", "\x0b", "\x85",
    "😀", "e\u0301", "\u0000\u0000", "＜workflow＞", "\uff1c", "ｉｄ", "Ω", "\ud800", "\udfff",
    "&", "&amp;", "&lol;", "&#x3c;", "&#60;", "]]>", "<![CDATA[", "<!--", "-->", "{{", "}}", "{{{", "${",
    "'", '"', "`", "\\", "<", ">", "/>", "</", "=", ":", "- ", "---\n", "...\n", "#", "|", "*a", "&a ",
]
HOSTILE_VALUES = [
    "", " ", "{{", "}}", "{{ }}", "{{ constructor }}", "{{ x.__class__ }}", "{{ $config.__proto__ }}",
    "{{ repeat('x', 10 ** 9) }}", "{{" + "(" * 200 + "1" + ")" * 200 + "}}", "../../etc/passwd", "/etc/passwd",
    "~/.ssh/id_rsa", "C:\\Windows\\win.ini", "..", "file:///etc/passwd", "http://169.254.169.254/", "-1", "0",
    "1e999", "NaN", "Infinity", "9" * 400, "x" * 5000, "&lol;", "<", "&", "\x00", "true", "null",
    "$item.__class__.__mro__", "'a'.upper()", "constructor", "__proto__", "map(xs, x => x)",
]
SANDBOX_ATTACKS = [
    "__class__", "x.__class__.__mro__[1].__subclasses__()", "''.__class__", "constructor", "x.constructor",
    "x['__proto__']", "x['__cl' + 'ass__']", "input.prototype", "'a'.upper()", "upper.__call__('a')",
    "repeat('x', 10 ** 9)", "range(0, 1e9)", "pad_start('', 1e12)", "(" * 300 + "1" + ")" * 300,
    "[" * 300 + "]" * 300, "{a: " * 100 + "1" + "}" * 100, "map(range(0, 1000000), x => map(range(0, 1000000), y => y))",
    "reduce(range(0, 100000), (acc, x) => acc + acc, 'xx')", "json_decode(repeat('[', 100000))",
    "-" * 5000 + "1", "!" * 5000 + "1", "1" + " + 1" * 5000, "a ? " * 500 + "1" + " : 2" * 500,
    "test(repeat('a', 30) + '!', '(a|aa)+$')", "import('os')", "eval('1')", "globals()", "__import__('os')",
]
YAML_BOMB = ("lol1: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
             "lol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nlol3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
             "lol4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nlol5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
             "lol6: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nlol7: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n")
DTD_ATTACKS = [
    '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE r SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
    '<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd">', "<?xml version='1.0'?>", '<?xml-stylesheet href="x"?>',
    "&xxe;", "&lol3;",
]

_TAG = re.compile(r"<[A-Za-z][\w-]*(?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>")
_ATTR = re.compile(r"([\w-]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")
_ID_REF = re.compile(r"\b(input|node|loop)=\"([^\"]*)\"")
_ID = re.compile(r"\bid=\"([^\"]*)\"")
_EXPR_ATTR = re.compile(r"\b(condition|when|collection|break|merge)=\"([^\"]*)\"")
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
_NODE_OPEN = re.compile(r"<(source|transform|sink|if|loop|while|foreach|parallel|checkpoint)\b[^>]*?(/?)>")


@dataclass(frozen=True)
class Case:
    index: int
    origin: str  # the example's file name
    mutations: tuple[str, ...]
    data: bytes

    @property
    def name(self) -> str:
        return f"case-{self.index:04d}-{self.origin}"


Mutation = Callable[[str, random.Random], str]


def _span(text: str, rng: random.Random, most: int = 64) -> tuple[int, int]:
    start = rng.randrange(len(text) + 1)
    return start, min(len(text), start + rng.randint(1, most))


def delete_span(text: str, rng: random.Random) -> str:
    start, end = _span(text, rng)
    return text[:start] + text[end:]


def duplicate_span(text: str, rng: random.Random) -> str:
    start, end = _span(text, rng, 200)
    return text[:end] + text[start:end] + text[end:]


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def delete_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 3)]
    return "".join(lines)


def duplicate_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 5)]
    at = rng.randrange(len(lines) + 1)
    return "".join(lines[:at] + block * rng.randint(1, 3) + lines[at:])


def swap_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "".join(lines)


def line_endings(text: str, rng: random.Random) -> str:
    ending = rng.choice(["\r\n", "\r", "\n\n", "\u2028", "\x85"])
    return "".join(line.rstrip("\n") + ending if rng.random() < 0.5 else line for line in _lines(text))


def _pick_tag(text: str, rng: random.Random) -> re.Match[str] | None:
    tags = list(_TAG.finditer(text))
    return rng.choice(tags) if tags else None


def truncate_tag(text: str, rng: random.Random) -> str:
    tag = _pick_tag(text, rng)
    if tag is None:
        return delete_span(text, rng)
    cut = rng.randint(tag.start() + 1, tag.end() - 1)
    return text[:cut] + (text[tag.end() :] if rng.random() < 0.7 else "")


def scramble_attributes(text: str, rng: random.Random) -> str:
    tag = _pick_tag(text, rng)
    if tag is None or not _ATTR.search(tag.group()):
        return duplicate_span(text, rng)
    attrs = [list(m.groups()) for m in _ATTR.finditer(tag.group())]
    how = rng.choice(["shuffle-values", "swap-names", "unquote", "requote", "repeat", "hostile", "drop-equals",
                      "drop"])
    if how == "shuffle-values":
        values = [a[2] for a in attrs]
        rng.shuffle(values)
        for a, v in zip(attrs, values, strict=True):
            a[2] = v
    elif how == "swap-names":
        names = [a[0] for a in attrs]
        rng.shuffle(names)
        for a, n in zip(attrs, names, strict=True):
            a[0] = n
    elif how == "unquote":
        a = rng.choice(attrs)
        a[2] = a[2][1:-1]
    elif how == "requote":
        a = rng.choice(attrs)
        a[2] = rng.choice(["'", '"', "`", ""]) + a[2][1:-1] + rng.choice(["'", '"', ""])
    elif how == "repeat":
        attrs.append(list(rng.choice(attrs)))
    elif how == "hostile":
        a = rng.choice(attrs)
        a[2] = '"' + rng.choice(HOSTILE_VALUES).replace('"', "&quot;") + '"'
    elif how == "drop-equals":
        a = rng.choice(attrs)
        a[1] = " "
    else:
        attrs.remove(rng.choice(attrs))
    head = re.match(r"<[A-Za-z][\w-]*", tag.group())
    assert head is not None
    tail = "/>" if tag.group().endswith("/>") else ">"
    rebuilt = head.group() + "".join(f" {n}{eq}{v}" for n, eq, v in attrs) + tail
    return text[: tag.start()] + rebuilt + text[tag.end() :]


def hostile_unicode(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(text) + 1)
        piece = rng.choice(HOSTILE_TEXT) if rng.random() < 0.7 else chr(rng.choice(
            [rng.randint(0, 0x7F), rng.randint(0x80, 0xFFFF), rng.randint(0x10000, 0x10FFFF)]))
        text = text[:at] + piece + text[at:]
    return text


def _wrap(text: str, rng: random.Random, open_: Callable[[int], str], close: str, depth: int) -> str:
    nodes = list(_NODE_OPEN.finditer(text))
    if not nodes:
        return text
    node = rng.choice(nodes)
    end = node.end() if node.group(2) == "/" else _closing(text, node)
    opening = "".join(open_(i) for i in range(depth))
    return text[: node.start()] + opening + text[node.start() : end] + close * depth + text[end:]


def _closing(text: str, node: re.Match[str]) -> int:
    end = text.find(f"</{node.group(1)}>", node.end())
    return node.end() if end < 0 else end + len(node.group(1)) + 3


def deep_nesting(text: str, rng: random.Random) -> str:
    depth = rng.choice([20, 49, 50, 99, 100, 101, 500, 5000])
    kind = rng.choice(["if", "foreach", "parallel", "loop", "unknown", "yaml-flow", "yaml-map", "yaml-block",
                       "expression", "text"])
    if kind == "if":
        return _wrap(text, rng, lambda i: f'<if id="deep-if-{i}" condition="true"><then>', "</then></if>", depth)
    if kind == "foreach":
        return _wrap(text, rng, lambda i: f'<foreach id="deep-each-{i}" collection="[1]">', "</foreach>", depth)
    if kind == "parallel":
        return _wrap(text, rng, lambda i: f'<parallel id="deep-par-{i}"><branch>', "</branch></parallel>", depth)
    if kind == "loop":
        return _wrap(text, rng, lambda i: f'<loop id="deep-loop-{i}" max="2">', "</loop>", depth)
    if kind == "unknown":
        return _wrap(text, rng, lambda i: "<x>", "</x>", depth)
    if kind == "yaml-flow":
        return text.replace("\n---\n", "\nnested: " + "[" * depth + "]" * depth + "\n---\n", 1)
    if kind == "yaml-map":
        return text.replace("\n---\n", "\nnested: " + "{a: " * depth + "1" + "}" * depth + "\n---\n", 1)
    if kind == "yaml-block":
        levels = min(depth, 300)
        block = "".join(" " * i + f"k{i}:\n" for i in range(levels)) + " " * levels + "v\n"
        return text.replace("\n---\n", "\nnested:\n" + block.replace("\n", "\n ").rstrip(" ") + "---\n", 1)
    if kind == "expression":
        inner = rng.choice(["(", "[", "f(", "-", "!", "{a: "])
        closer = {"(": ")", "[": "]", "f(": ")", "-": "", "!": "", "{a: ": "}"}[inner]
        expr = inner * depth + "1" + closer * depth
        return _replace_expression(text, rng, expr)
    return text.replace("<workflow>", "<workflow>" + "<a>" * depth + "x" + "</a>" * depth, 1)


def _replace_expression(text: str, rng: random.Random, expr: str) -> str:
    sites = list(_EXPR_ATTR.finditer(text)) + list(_TEMPLATE.finditer(text))
    if not sites:
        return text
    site = rng.choice(sites)
    group = 2 if site.re is _EXPR_ATTR else 1
    value = expr.replace('"', "&quot;") if group == 2 else expr
    return text[: site.start(group)] + value + text[site.end(group) :]


def expression_attack(text: str, rng: random.Random) -> str:
    return _replace_expression(text, rng, rng.choice(SANDBOX_ATTACKS))


def dtd_attack(text: str, rng: random.Random) -> str:
    attack = rng.choice(DTD_ATTACKS)
    where = rng.choice(["before-workflow", "inside-workflow", "top", "anywhere"])
    if where == "before-workflow":
        return text.replace("<workflow>", attack + "\n<workflow>", 1)
    if where == "inside-workflow":
        return text.replace("<workflow>", "<workflow>\n" + attack, 1)
    if where == "top":
        return attack + "\n" + text
    at = rng.randrange(len(text) + 1)
    return text[:at] + attack + text[at:]


def yaml_attack(text: str, rng: random.Random) -> str:
    attack = rng.choice([YAML_BOMB, "name: !!python/object/apply:os.system ['true']\n", "r: &r [*r]\n",
                         "big: " + "9" * 5000 + "\n", "when: 2024-13-45\n", "x: !!binary AAAA\n",
                         "config:\n  a: {type: number, default: 1e999}\n", "? [a, b]\n: c\n", "<<: *undefined\n",
                         "version: [1, 0]\n", "name: {a: 1}\n", "secrets: [../../x, '$(rm -rf)']\n"])
    return text.replace("\n---\n", "\n" + attack.rstrip("\n") + "\n---\n", 1)


def path_attack(text: str, rng: random.Random) -> str:
    target = rng.choice(["../../etc/passwd", "/etc/passwd", "..\\..\\x", "./../x", "out/../../x", "~/x",
                         "{{$config.p}}", "{{'../' + 'x'}}", "\x00x", "a" * 5000])
    return re.sub(r'path="[^"]*"', lambda _: f'path="{target}"', text, count=rng.randint(1, 3))


def rewire_ids(text: str, rng: random.Random) -> str:
    ids = _ID.findall(text)
    refs = list(_ID_REF.finditer(text))
    if not refs or not ids:
        return swap_lines(text, rng)
    ref = rng.choice(refs)
    new = rng.choice([*ids, "nope", "", ref.group(2) + "-x", "url-list", "a b", "$item"])
    return text[: ref.start(2)] + new + text[ref.end(2) :]


TEXT_MUTATIONS: dict[str, Mutation] = {
    "delete-span": delete_span, "duplicate-span": duplicate_span, "truncate": truncate,
    "delete-lines": delete_lines, "duplicate-lines": duplicate_lines, "swap-lines": swap_lines,
    "line-endings": line_endings, "truncate-tag": truncate_tag, "scramble-attributes": scramble_attributes,
    "hostile-unicode": hostile_unicode, "deep-nesting": deep_nesting, "expression-attack": expression_attack,
    "dtd-attack": dtd_attack, "yaml-attack": yaml_attack, "path-attack": path_attack, "rewire-ids": rewire_ids,
}  # fmt: skip


def _byte_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    how = rng.choice(["invalid-utf8", "delete-bytes", "flip-bits"])
    at = rng.randrange(len(data) + 1)
    if how == "invalid-utf8":
        junk = bytes(rng.choice([0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF8, 0xFE, 0xFF])
                     for _ in range(rng.randint(1, 4)))
        return how, data[:at] + junk + data[at:]
    if how == "delete-bytes":  # may cut a multi-byte character in half
        return how, data[:at] + data[at + rng.randint(1, 3) :]
    flipped = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if flipped:
            i = rng.randrange(len(flipped))
            flipped[i] ^= 1 << rng.randrange(8)
    return how, bytes(flipped)


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}:{index}")
    origin = rng.choice(EXAMPLES)
    text = origin.read_text(encoding="utf-8")
    names: list[str] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
        name = rng.choice(sorted(TEXT_MUTATIONS))
        text = TEXT_MUTATIONS[name](text, rng)
        names.append(name)
    data = text.encode("utf-8", errors="surrogatepass")  # a lone surrogate becomes invalid UTF-8
    if rng.random() < 0.1:
        how, data = _byte_mutation(data, rng)
        names.append(how)
    return Case(index, origin.name, tuple(names), data)


def corpus(n: int, seed: int) -> list[Case]:
    return [make_case(seed, i) for i in range(n)]

"""The syntax tree the parser builds and the compiler turns into closures.

Every node keeps `pos`, the 0-based offset in the source that errors point at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Node:
    """An expression node; `pos` is where errors about it point."""

    pos: int


@dataclass(slots=True)
class Literal(Node):
    """A number, string, boolean or null as written."""

    value: Any


@dataclass(slots=True)
class Name(Node):
    """A name: a node id, `$item`, `$config`..., resolved in the scope when evaluated."""

    name: str


@dataclass(slots=True)
class Member(Node):
    """`obj.key` or `obj?.key` (also `obj["literal"]`): a key known when compiling."""

    obj: Node
    key: str


@dataclass(slots=True)
class Index(Node):
    """`obj[expr]` / `obj?.[expr]` with a computed key."""

    obj: Node
    index: Node


@dataclass(slots=True)
class Call(Node):
    """`name(args)`: only built-in functions can be called; `pos` is the name's offset."""

    name: str
    args: list[Node]


@dataclass(slots=True)
class Arrow(Node):
    """`(a, b) => body`; allowed only as a call argument."""

    params: list[str]
    body: Node
    source: str = ""


@dataclass(slots=True)
class Unary(Node):
    """`!x`, `-x`, `+x`, `typeof x`."""

    op: str
    operand: Node
    paren: bool = False


@dataclass(slots=True)
class Binary(Node):
    """Arithmetic, comparison, equality and the short-circuit operators; `pos` is the operator's."""

    op: str
    left: Node
    right: Node
    paren: bool = False


@dataclass(slots=True)
class Conditional(Node):
    """`test ? then : otherwise`."""

    test: Node
    then: Node
    otherwise: Node


@dataclass(slots=True)
class ArrayLit(Node):
    """`[a, b, ...c]`."""

    items: list[Node]


@dataclass(slots=True)
class Property:
    """One entry of an object literal; `key` is a string, or a Node when computed (`[k]: v`)."""

    key: str | Node
    value: Node
    pos: int


@dataclass(slots=True)
class ObjectLit(Node):
    """`{a: 1, [key]: v, ...o}`."""

    properties: list[Property] = field(default_factory=list)

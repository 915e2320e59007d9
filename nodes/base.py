"""What a node is, and the three interfaces a node kind works against.

A node kind is one module of this package (docs/architecture.md, "Adding a node kind"): its
model, a dataclass subclass of this module's `Node`, says what the element holds and knows
- how its element reads (`read`, through a `NodeReader` the compiler hands it),
- the expressions and templates it holds and the bodies it nests (`sites`, `bodies`),
- what it checks beyond reading (`check`),
- what it does when it runs (`run`, through a `ControlStep` the engine hands it).
Data nodes (sources, transforms, sinks) share their model and reading (data.py); each data
type is a `DataType` whose `run` gets a `DataCall`. The compiler and the engine never name a
kind; registry.py lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from flowscript.syntax.source import Location
from flowscript.syntax.xml_reader import Element, Span, Text

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

SiteKind = Literal["expression", "template"]
Action = Literal["approve", "reject"]
NO_NAMES: frozenset[str] = frozenset()


# ------------------------------------------------------------------ the model


@dataclass(kw_only=True, slots=True)
class Node:
    """What every node has. A kind's model adds its own fields and a `kind` literal."""

    kind: ClassVar[str]  # the element's name: "foreach", "source"...
    runs_anywhere: ClassVar[bool] = True  # False: it must run where the run is watched (it asks a person)
    asks_approval: ClassVar[bool] = False  # True: a rejection may end the run (what runs beside it is not held back)
    id: str
    input: str | None = None
    location: Location
    # Where each attribute value or child element text starts (key = attribute/tag name),
    # so errors inside an expression can point at the right file column.
    value_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def kind_name(self) -> str:
        """`source:http`, `transform:map`, `foreach`...: the kind shown in plans and task tags."""
        return self.kind

    def bodies(self) -> list[Body]:
        """The nested bodies in source order (then/else, each case, each branch...)."""
        return []

    def sites(self) -> Iterator[Site]:
        """This node's own expressions and templates (not those of the nodes it nests)."""
        return iter(())

    def check(self, report: Report) -> None:
        """Rules beyond reading; the validator calls it for every node."""

    def location_of(self, key: str) -> Location:
        return self.value_locations.get(key, self.location)

    @classmethod
    def read(cls, reader: NodeReader, el: Element, loops: tuple[str, ...]) -> Node:
        """The node of an element of this kind; `loops` are the ids of the enclosing loops."""
        raise NotImplementedError


@dataclass(kw_only=True, slots=True)
class ControlNode(Node):
    """A node that holds other nodes or steers the run (if, loops, parallel, checkpoint...): it
    runs in the engine's process, through the `ControlStep` it is handed."""

    # What its output is made of, beyond its input and its bodies' outputs (compiler/taint.py):
    value_sites: ClassVar[frozenset[str]] = frozenset()  # sites whose values reach the output or the body's input
    body_receives_output: ClassVar[bool] = False  # an iteration after the first receives the previous one's output

    async def run(self, step: ControlStep) -> Any:
        raise NotImplementedError


@dataclass(kw_only=True, slots=True)
class BreakNode:
    """`<break/>`: not a node (no id, no result); leaves the enclosing (or named) loop."""

    kind: Literal["break"] = "break"
    loop: str | None = None
    location: Location


BodyItem = Node | BreakNode


@dataclass(frozen=True, slots=True)
class Body:
    """Nodes run in order, and the names bound inside them ($item, $iteration, $branch...)."""

    items: list[BodyItem]
    binds: frozenset[str] = NO_NAMES


@dataclass(frozen=True, slots=True)
class Site:
    """One expression or template of a node: where it is, and the names bound while it is evaluated."""

    key: str
    text: str
    kind: SiteKind
    location: Location | None
    binds: frozenset[str] = NO_NAMES


def site(node: Node, key: str, text: str | None, kind: SiteKind, binds: frozenset[str] = NO_NAMES
         ) -> Iterator[Site]:
    """The site of one attribute (none when the attribute is absent)."""
    if text is not None:
        yield Site(key, text, kind, node.value_locations.get(key), binds)


def walk(items: Sequence[BodyItem]) -> Iterator[Node]:
    """Every node in `items` and below, depth first in source order (breaks left out)."""
    for item in items:
        if isinstance(item, BreakNode):
            continue
        yield item
        for body in item.bodies():
            yield from walk(body.items)


class Report(Protocol):
    """How a check reports a finding (the validator's collector)."""

    def __call__(self, code: str, message: str, where: Location | None, *, hint: str | None = None,
                 warning: bool = False) -> None: ...


# ------------------------------------------------------------------ reading


Value = tuple[str, int]  # text and the file offset of its first character


class NodeReader(Protocol):
    """What the compiler offers a kind's `read`: values, bodies and problem reports, each
    problem at `file:line:column` (the compiler's parser implements it)."""

    def report(self, code: str, message: str, offset: int, hint: str | None = None) -> None: ...

    def loc(self, offset: int) -> Location: ...

    def fields(self, el: Element, attributes: tuple[str, ...], children: tuple[str, ...]
               ) -> tuple[dict[str, Value], list[Element | Text]]:
        """id, input and the named attributes (or same-named text children); the other children."""
        ...

    def base(self, el: Element, values: dict[str, Value]) -> dict[str, Any]:
        """The Node fields every kind has: id (checked), input, location, value locations."""
        ...

    def required(self, el: Element, values: dict[str, Value], name: str) -> str: ...

    def number(self, el: Element, values: dict[str, Value], name: str, minimum: int) -> str | None:
        """A whole number of at least `minimum`, or a template giving one."""
        ...

    def choice(self, el: Element, values: dict[str, Value], name: str, allowed: tuple[str, ...]) -> str | None: ...

    def integer(self, text: str, offset: int, what: str, minimum: int) -> int | None: ...

    def body(self, children: list[Element | Text], loops: tuple[str, ...]) -> list[BodyItem]: ...

    def container(self, el: Element, loops: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[BodyItem]:
        """The nodes of a `<then>`, `<case>`, parallel `<branch>`... (attributes other than `allowed` refused)."""
        ...

    def checked_text(self, el: Element, attributes_ok: bool = False) -> Span | None:
        """The text of an element that must hold text only (None when it holds elements)."""
        ...

    node_tags: tuple[str, ...]  # every element that is a node (or `<break/>`)

    def column(self, offset: int) -> int: ...

    def no_text(self, text: Text) -> None: ...

    def misplaced(self, el: Element, where: str, hint: str) -> None: ...

    def unknown_child(self, el: Element, where: str, allowed: tuple[str, ...]) -> None: ...


# ------------------------------------------------------------------ running


@dataclass(frozen=True, slots=True)
class WithMeta:
    """A runtime's output plus figures for the node result (AI usage, iteration counts...)."""

    value: Any
    meta: dict[str, Any]


@dataclass(slots=True)
class Iterations:
    """What a foreach's iterations gave: outputs and node results by index, where a sequential
    `<break/>` stopped it, and the first failure. Plain data: a chunk of iterations run in
    another process comes back as one."""

    outputs: dict[int, Any] = field(default_factory=dict)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)  # index -> node id -> its result there
    broke_at: int | None = None
    failure: BaseException | None = None

    def merge(self, other: Iterations) -> None:
        self.outputs.update(other.outputs)
        self.results.update(other.results)
        self.broke_at = self.broke_at if other.broke_at is None else other.broke_at
        self.failure = self.failure or other.failure


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What a checkpoint asks its approver, wherever the backend asks it."""

    checkpoint_id: str
    key: str
    prompt: str
    timeout_s: float | None
    default: Action
    input: Any
    suspend: bool | None = None  # a deployed run's wait: True suspends, False pauses, None by the timeout


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """The approver's answer (or the default's), as the run and its log record it."""

    action: Action
    timed_out: bool
    responded_at: str
    by: str  # "terminal user", "default (timeout)", "default (no one to ask)", a Prefect user...
    comment: str | None = None


class Evaluation(Protocol):
    """Expressions and templates evaluated where a node runs: its input, the outputs and names it sees."""

    def evaluate(self, text: str, names: Mapping[str, Any] | None = None) -> Any:
        """An expression's value; `names` adds or shadows names ($item, $branches...)."""
        ...

    def evaluator(self, text: str) -> Callable[[Mapping[str, Any]], Any]:
        """The expression compiled once, evaluated per call with a few more names (per item)."""
        ...

    def render(self, text: str) -> str:
        """A template's text (always a string)."""
        ...

    def whole_number(self, text: str | None, what: str, default: int | None, minimum: int = 0) -> int | None:
        """A numeric attribute (`max`, `concurrency`, `timeout`): a number or a template giving one."""
        ...


class Lane(Evaluation, Protocol):
    """Where a body runs: a node's own place, an iteration, or a parallel branch. Node results
    recorded in a lane keep the lane's key prefix (`each[3].fmt`)."""

    async def run_body(self, items: Sequence[BodyItem], input: Any) -> Any:
        """Runs the nodes in order (a node without `input` receives the previous one's output);
        returns the last output. A `<break/>` raises BreakSignal."""
        ...

    def lane(self, bindings: Mapping[str, Any], *, iteration: int | None = None) -> Lane:
        """A child lane: bindings of its own; with `iteration`, results keyed `<node>[i].`."""
        ...

    def results(self) -> Mapping[str, Any]:
        """The results of the nodes run in this lane, by node id (what a loop summarizes)."""
        ...


class ControlStep(Lane, Protocol):
    """One execution of a control node, as its kind's `run` sees it (in the flow's process)."""

    @property
    def node(self) -> Any: ...

    @property
    def input(self) -> Any: ...

    @property
    def key(self) -> str:
        """The node's result key: `gate`, or `each[3].gate` inside an iteration."""
        ...

    @property
    def max_concurrency(self) -> int: ...

    def skip(self, items: Sequence[BodyItem]) -> None:
        """Records the nodes of a body that was not chosen as skipped."""
        ...

    def skip_unfinished(self, items: Sequence[BodyItem]) -> None:
        """Records the nodes of cancelled lanes that did not finish as skipped."""
        ...

    def summarize(self, iterations: Sequence[Mapping[str, Any]]) -> None:
        """After a loop: each body node's last result (iterations in order, each one's `results()`)
        becomes its plain result (`node.output`)."""
        ...

    def adopt(self, lanes: Sequence[Lane]) -> None:
        """After a parallel: what the branches produced becomes visible to later nodes."""
        ...

    async def ask(self, request: ApprovalRequest) -> ApprovalDecision: ...

    def progress(self, done: int, total: int) -> None: ...

    def chunk_size(self, items: int) -> int | None:
        """How many iterations the backend takes as one unit of work (None: no chunks)."""
        ...

    async def run_chunk(self, items: list[Any], indices: range, concurrency: int, into: Iterations) -> None:
        """Iterations `indices` of this node (a foreach) as one unit of work, carried out by the
        backend wherever it runs them, with the node's own `iterate`; their outcome lands `into`."""
        ...


class DataCall(Evaluation, Protocol):
    """One data-node execution where it runs (this process, or a worker), as its type's `run` sees it."""

    @property
    def node(self) -> Any: ...

    @property
    def input(self) -> Any: ...

    @property
    def workdir(self) -> Path:
        """The run's working folder: file paths are relative to it and may not leave it."""
        ...

    @property
    def secrets(self) -> Mapping[str, str]: ...

    @property
    def env(self) -> Mapping[str, str]: ...

    def config(self) -> dict[str, Any]:
        """The node's config with its templates resolved (the entries its type evaluates itself kept)."""
        ...

    @property
    def http(self) -> httpx.AsyncClient:
        """The run's HTTP client (made on first use: a run without http or ai nodes never imports httpx)."""
        ...

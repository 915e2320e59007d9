"""A data-node execution as a value, and the one function that carries it out.

The engine turns each execution of a source, transform or sink into a `NodeExecution`:
the node's definition, its resolved input, the values its expressions can read (the
outputs and names it references, `$config`, `$context`), its retry policy and the *names*
of the workflow's secrets. Any process that has the package can run it with `execute`
(the local backend in its own process, a Prefect task on a Dask worker) and gets plain
JSON back: `{"output": ..., "meta": {...}}`. Secret values never travel in it: they come
from the `Resources` of the process that runs it (docs/architecture.md, "The backend seam").
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression, compile_template
from flowscript.nodes.base import WithMeta
from flowscript.nodes.data import DataNode, config_strings
from flowscript.runtime.retry import RetrySettings
from flowscript.runtime.secrets import Redactor, withhold_quoted

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class NodeExecution:
    """One data-node execution: everything it needs but secret values and an HTTP client."""

    node: DataNode
    run_id: str
    key: str  # result key: "save", or "each[3].fmt" inside an iteration
    input: Any
    names: dict[str, Any]  # the names its expressions read, as they resolved where it was made
    config: dict[str, Any]  # $config
    context: dict[str, Any]  # $context (the merged layers)
    secret_names: tuple[str, ...]  # the workflow's secrets, looked up where it runs
    hyphen_ids: frozenset[str]  # node ids holding '-': how `url-list.output` reads in its expressions
    retry: RetrySettings | None  # None: run once, no attempt timeout
    workdir: str
    upstream: tuple[str, ...] = ()  # the keys of the executions whose outputs it reads (Prefect's graph)
    # Its output, or what it reads, derives from a secret (compiler/taint.py): where it runs, an
    # error it raises is redacted by the text of what it reads too, and Prefect keeps no result.
    secret_derived: bool = False

    @property
    def tag(self) -> str:
        return self.node.kind_name


@dataclass
class Resources:
    """What the process that runs executions supplies: secret values, the environment, and one
    HTTP client (made on first use, closed by `close`)."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    make_client: Callable[[], httpx.AsyncClient] | None = None
    _client: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            if self.make_client is None:
                from flowscript.nodes.io.tls import default_client

                self._client = default_client()
            else:
                self._client = self.make_client()
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def execute(execution: NodeExecution, resources: Resources) -> dict[str, Any]:
    """One attempt of the execution; plain JSON out (`output`, and `meta` when the node has figures).
    An error of an execution that handles secret-derived values leaves with the text of what it
    read cut out (a path or URL made from a secret is not the secret's text), and with what an
    expression error quotes withheld (a value made from a secret mid-expression)."""
    try:
        output = await execution.node.run(Call(execution, resources))
    except Exception as error:
        if execution.secret_derived:
            _derived_redactor(execution, resources).error(withhold_quoted(error))
        raise
    if isinstance(output, WithMeta):
        return {"output": output.value, "meta": output.meta}
    return {"output": output}


def _derived_redactor(execution: NodeExecution, resources: Resources) -> Redactor:
    """Redacts the secrets, what the execution read (its input and names), and what its config's
    templates made of a secret (`{{upper($secrets.K)}}`, not the literal text around it)."""
    redactor = Redactor(resources.secrets.values())
    redactor.learn([execution.input, list(execution.names.values())])
    scope = Call(execution, resources)._scope
    for key, value in execution.node.config.items():
        if key in execution.node.self_evaluated:
            continue
        for text in (t for t in config_strings(value) if "$secrets" in t):
            with contextlib.suppress(Exception):  # it may be what failed
                compiled = compile_template(text, node_ids=execution.hyphen_ids)
                redactor.learn(compiled.segment_values(scope, "$secrets"))
    return redactor


def outcome_value(answer: Mapping[str, Any]) -> Any:
    """What `execute` returned, back in the engine's form."""
    return WithMeta(answer["output"], answer["meta"]) if "meta" in answer else answer["output"]


class Call:
    """The `DataCall` a data node's `run` gets: its config, its expressions, the resources."""

    __slots__ = ("_execution", "_resources", "_scope", "input", "node")

    def __init__(self, execution: NodeExecution, resources: Resources) -> None:
        self._execution = execution
        self._resources = resources
        self.node = execution.node
        self.input = execution.input
        self._scope = FlatScope({**execution.names, "input": execution.input, "$config": execution.config,
                                 "$secrets": dict(resources.secrets), "$context": execution.context})

    @property
    def workdir(self) -> Path:
        return Path(self._execution.workdir)

    @property
    def secrets(self) -> Mapping[str, str]:
        return self._resources.secrets

    @property
    def env(self) -> Mapping[str, str]:
        return self._resources.env

    @property
    def http(self) -> httpx.AsyncClient:
        return self._resources.http

    def config(self) -> dict[str, Any]:
        keep = self.node.self_evaluated
        return {k: v if k in keep else self._template_value(v) for k, v in self.node.config.items()}

    def evaluate(self, text: str, names: Mapping[str, Any] | None = None) -> Any:
        scope = self._scope if names is None else self._scope.with_names(names)
        return compile_expression(text, node_ids=self._execution.hyphen_ids).evaluate(scope)

    def evaluator(self, text: str) -> Callable[[Mapping[str, Any]], Any]:
        compiled = compile_expression(text, node_ids=self._execution.hyphen_ids)
        scope = self._scope
        return lambda names: compiled.evaluate(scope.with_names(names))

    def render(self, text: str) -> str:
        return compile_template(text, node_ids=self._execution.hyphen_ids).render(self._scope)

    def whole_number(self, text: str | None, what: str, default: int | None, minimum: int = 0) -> int | None:
        return whole_number(self._template_value(text) if text is not None else None, text, what, default, minimum)

    def _template_value(self, value: Any) -> Any:
        return template_value(value, self._scope, self._execution.hyphen_ids)


class FlatScope(Mapping[str, Any]):
    """The names an execution's expressions see: a flat mapping, plus a few per item."""

    __slots__ = ("_base", "_extra")

    def __init__(self, base: dict[str, Any], extra: Mapping[str, Any] | None = None) -> None:
        self._base = base
        self._extra = extra

    def with_names(self, extra: Mapping[str, Any]) -> FlatScope:
        return FlatScope(self._base, extra)

    def __getitem__(self, name: str) -> Any:
        if self._extra is not None and name in self._extra:
            return self._extra[name]
        return self._base[name]

    def get(self, name: str, default: Any = None) -> Any:
        if self._extra is not None and name in self._extra:
            return self._extra[name]
        return self._base.get(name, default)

    def __contains__(self, name: object) -> bool:
        return (self._extra is not None and name in self._extra) or name in self._base

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self._base, *(self._extra or {})}))

    def __len__(self) -> int:
        return sum(1 for _ in self)


# ------------------------------------------------------------------ shared with the engine's steps


def template_value(value: Any, scope: Mapping[str, Any], hyphen_ids: frozenset[str]) -> Any:
    """A config value with its templates resolved; nested mappings and lists too."""
    if isinstance(value, str):
        return compile_template(value, node_ids=hyphen_ids).evaluate(scope) if "{{" in value else value
    if isinstance(value, dict):
        return {k: template_value(v, scope, hyphen_ids) for k, v in value.items()}
    if isinstance(value, list):
        return [template_value(v, scope, hyphen_ids) for v in value]
    return value


def whole_number(value: Any, text: str | None, what: str, default: int | None, minimum: int) -> int | None:
    """A numeric attribute's resolved value as a whole number of at least `minimum`."""
    if text is None:
        return default
    try:
        number = int(value) if not isinstance(value, bool) and float(value) == int(float(value)) else None
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or number < minimum:
        raise ExpressionError(f"{what} must be a whole number >= {minimum}, got {value!r}",
                              code="EXPR_TYPE_ERROR", expression=text)
    return number

"""What an expression can see (docs/language.md#names-in-scope): frames of local names and outputs.

A Frame is where a node runs. The root frame holds the run's outputs; every iteration and
parallel branch gets a child frame, so its writes stay its own (isolation) while it still
reads everything its parents see. Lookup order, innermost wins: local bindings ($item,
the foreach item name, $iteration, $branch, $primaryError...), `input`, node outputs, the
node/phase/global context layers, then `$config`, `$secrets` and `$context`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

MISSING = object()


class Frame:
    __slots__ = ("bindings", "outputs", "parent", "prefix", "results")

    def __init__(self, parent: Frame | None = None, bindings: Mapping[str, Any] | None = None,
                 prefix: str = "", outputs: dict[str, Any] | None = None) -> None:
        self.parent = parent
        self.bindings = dict(bindings or {})
        self.outputs: dict[str, Any] = outputs if outputs is not None else {}
        self.prefix = prefix  # result-key prefix: "" at top level, "each[3]." inside an iteration
        self.results: dict[str, Any] = {}  # node id -> NodeResult of the nodes run in this frame

    def child(self, bindings: Mapping[str, Any] | None = None, prefix: str | None = None) -> Frame:
        return Frame(self, bindings, self.prefix if prefix is None else prefix)

    def key(self, node_id: str) -> str:
        return self.prefix + node_id

    def binding(self, name: str) -> Any:
        frame: Frame | None = self
        while frame is not None:
            value = frame.bindings.get(name, MISSING)
            if value is not MISSING:
                return value
            frame = frame.parent
        return MISSING

    def output(self, name: str) -> Any:
        frame: Frame | None = self
        while frame is not None:
            value = frame.outputs.get(name, MISSING)
            if value is not MISSING:
                return value
            frame = frame.parent
        return MISSING

    def visible_binding_names(self) -> set[str]:
        names: set[str] = set()
        frame: Frame | None = self
        while frame is not None:
            names.update(frame.bindings)
            frame = frame.parent
        return names


class RunScope:
    """The run-wide names: config, secrets and the context layers."""

    def __init__(self, config: Mapping[str, Any], secrets: Mapping[str, str],
                 global_ctx: Mapping[str, Any], phase_ctx: Mapping[str, Any], node_ctx: Mapping[str, Any]) -> None:
        self.layers = (dict(node_ctx), dict(phase_ctx), dict(global_ctx))
        self.specials = {
            "$config": dict(config),
            "$secrets": dict(secrets),
            "$context": {**global_ctx, **phase_ctx, **node_ctx},
        }

    def lookup(self, name: str) -> Any:
        value = self.specials.get(name, MISSING)
        if value is not MISSING:
            return value
        for layer in self.layers:
            value = layer.get(name, MISSING)
            if value is not MISSING:
                return value
        return MISSING


class Scope(Mapping[str, Any]):
    """The Mapping an expression evaluates against; computed lazily, never copied."""

    __slots__ = ("_extra", "_frame", "_input", "_run")

    def __init__(self, run: RunScope, frame: Frame, input: Any = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        self._run = run
        self._frame = frame
        self._input = input
        self._extra = extra

    def with_names(self, extra: Mapping[str, Any]) -> Scope:
        """The same scope plus a few names ($item, $branches...), cheap enough per item."""
        return Scope(self._run, self._frame, self._input, extra)

    def _lookup(self, name: str) -> Any:
        if self._extra is not None:
            value = self._extra.get(name, MISSING)
            if value is not MISSING:
                return value
        value = self._frame.binding(name)
        if value is not MISSING:
            return value
        if name == "input":
            return self._input
        value = self._frame.output(name)
        if value is not MISSING:
            return {"output": value}
        return self._run.lookup(name)

    def get(self, name: str, default: Any = None) -> Any:
        value = self._lookup(name)
        return default if value is MISSING else value

    def __getitem__(self, name: str) -> Any:
        value = self._lookup(name)
        if value is MISSING:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not MISSING

    def __iter__(self) -> Iterator[str]:
        names = {"input", *self._frame.visible_binding_names(), *self._run.specials}
        frame: Frame | None = self._frame
        while frame is not None:
            names.update(frame.outputs)
            frame = frame.parent
        for layer in self._run.layers:
            names.update(layer)
        names.update(self._extra or {})
        return iter(sorted(names))

    def __len__(self) -> int:
        return sum(1 for _ in self)

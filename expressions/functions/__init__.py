"""The built-in functions of FlowScript expressions (docs/language.md#built-in-functions), by category.

FUNCTIONS is the read-only table the compiler resolves calls against and `flowscript
functions` lists. The category modules register their functions when imported, and they
are imported at the table's first lookup: an expression without a call (most templates)
never pays for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from flowscript.expressions.functions.registry import CATEGORIES, REGISTRY, BuiltinFunction

_MODULES = ("strings", "regexes", "arrays", "mathfns", "typefns", "objects", "timefns", "utility", "higher_order")


class _Library(Mapping[str, BuiltinFunction]):
    """Every built-in, in category order; the modules load at the first lookup."""

    def __init__(self) -> None:
        self._table: dict[str, BuiltinFunction] | None = None

    def _loaded(self) -> dict[str, BuiltinFunction]:
        if self._table is None:
            for module in _MODULES:
                importlib.import_module(f"{__name__}.{module}")
            self._table = {f.name: f for category in CATEGORIES for f in REGISTRY.values()
                           if f.category == category}
        return self._table

    def __getitem__(self, name: str) -> BuiltinFunction:
        return self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


FUNCTIONS: Mapping[str, BuiltinFunction] = _Library()

__all__ = ["CATEGORIES", "FUNCTIONS", "BuiltinFunction"]

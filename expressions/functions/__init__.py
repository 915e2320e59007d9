"""The built-in functions of FlowScript expressions (docs/language.md#built-in-functions), by category.

Importing this package registers every function; FUNCTIONS is the read-only table the
compiler resolves calls against and `flowscript functions` lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flowscript.expressions.functions import (  # noqa: F401  (importing registers)
    arrays,
    higher_order,
    mathfns,
    objects,
    regexes,
    strings,
    timefns,
    typefns,
    utility,
)
from flowscript.expressions.functions.registry import CATEGORIES, REGISTRY, BuiltinFunction

FUNCTIONS: Mapping[str, BuiltinFunction] = MappingProxyType(
    {f.name: f for category in CATEGORIES for f in REGISTRY.values() if f.category == category}
)

__all__ = ["CATEGORIES", "FUNCTIONS", "BuiltinFunction"]

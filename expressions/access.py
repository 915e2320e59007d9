"""Null-safe member access: the only way an expression reads inside a value.

Only dict keys, list/str indexes and `.length` are ever read; never a Python attribute.
Every miss (missing key, null object, wrong type, index out of range) is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscript.errors import ExpressionError
from flowscript.expressions.values import is_blocked_key, list_index, property_key


def blocked(key: str, pos: int | None) -> ExpressionError:
    return ExpressionError(
        f"access to '{key}' is blocked",
        code="EXPR_BLOCKED_ACCESS",
        position=pos,
        hint="names and keys '__proto__', 'constructor', 'prototype' and '__...' cannot be read; "
        "get(obj, key) reads a data key of that name",
    )


def get_member(obj: Any, key: str) -> Any:
    """`obj.key` for a key known when compiling (already checked against the blocked list)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    if isinstance(obj, (list, tuple, str)):
        if key == "length":
            return len(obj)
        i = list_index(key)
        if i is not None and 0 <= i < len(obj):
            return obj[i]
    return None


def get_index(obj: Any, key: Any, pos: int) -> Any:
    """`obj[key]` with a computed key: arrays and strings by index, objects by property key.
    (Close to get_member, deliberately: a computed key needs the blocked-key check and JS key
    conversion that a written `.name` does not, and member access is the hottest path.)"""
    if isinstance(obj, (list, tuple, str)):
        if isinstance(key, str):
            if is_blocked_key(key):
                raise blocked(key, pos)
            if key == "length":
                return len(obj)
        i = list_index(key)
        if i is not None and 0 <= i < len(obj):
            return obj[i]
        return None
    name = key if isinstance(key, str) else property_key(key)
    if is_blocked_key(name):
        raise blocked(name, pos)
    if isinstance(obj, Mapping):
        return obj.get(name)
    return None

"""Reading one entry of a resolved node config.

Config values arrive as strings (attributes, element text, templates) or as raw values
(a lone `{{expr}}`), so a number may be `5000` or `"5000"` and a flag `false` or
`"false"`. These helpers accept both and raise one error shape for a bad value, so every
runtime reports config mistakes the same way: a non-retryable NodeError, code
RUN_INVALID_CONFIG, naming the entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flowscript.errors import NodeError

INVALID_CONFIG = "RUN_INVALID_CONFIG"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def config_error(key: str, message: str, *, hint: str | None = None) -> NodeError:
    """The error for a config entry that cannot be used (never retryable)."""
    return NodeError(f"{key}: {message}", code=INVALID_CONFIG, hint=hint)


def describe(value: Any) -> str:
    """A short, safe description of a bad value for an error message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return type(value).__name__ if isinstance(value, (dict, list)) else repr(value)


def get_str(config: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    """A string entry; numbers are accepted and printed, containers are refused."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if not isinstance(value, str):
        raise config_error(key, f"expected text, got {describe(value)}")
    return value


def get_bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    """A flag: true/false, 1/0, yes/no, on/off (any case); absent means `default`."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise config_error(key, f"expected true or false, got {describe(value)}")


def get_number(config: Mapping[str, Any], key: str, default: float | None = None, *,
               minimum: float | None = None) -> float | None:
    """A finite number (or numeric text), at least `minimum` when given."""
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    number: float
    if isinstance(value, bool):
        raise config_error(key, f"expected a number, got {describe(value)}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise config_error(key, f"expected a number, got {describe(value)}") from None
    else:
        raise config_error(key, f"expected a number, got {describe(value)}")
    if not math.isfinite(number):
        raise config_error(key, f"expected a finite number, got {describe(value)}")
    if minimum is not None and number < minimum:
        raise config_error(key, f"must be at least {minimum:g}, got {number:g}")
    return number


def get_int(config: Mapping[str, Any], key: str, default: int | None = None, *,
            minimum: int | None = None) -> int | None:
    """A whole number (or its text), at least `minimum` when given."""
    number = get_number(config, key, None, minimum=minimum)
    if number is None:
        return default
    if not number.is_integer():
        raise config_error(key, f"expected a whole number, got {number:g}")
    return int(number)

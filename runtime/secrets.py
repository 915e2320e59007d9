"""Secret values: read from the environment, and kept out of everything we write.

Secrets are supplied at run time (environment, a secret store, explicit overrides) and
never persisted. Every JSON or text we write (state file, journal, markdown log,
progress, error messages) goes through a Redactor first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowscript.runtime.errors import ValidationError

REDACTED = "***"
_MIN_SECRET_LENGTH = 3  # shorter values would redact ordinary text


def read_secrets(names: Iterable[str], env: Mapping[str, str], overrides: Mapping[str, str] | None = None,
                 *, required: Iterable[str] = ()) -> dict[str, str]:
    """The declared secrets that have a value; a `required` one without a value is an error."""
    values = {name: env[name] for name in names if env.get(name)}
    values.update({k: v for k, v in (overrides or {}).items() if v})
    missing = [name for name in required if name not in values]
    if missing:
        raise ValidationError(
            f"secret(s) {', '.join(missing)} used by the workflow have no value",
            code="VALID_UNDEFINED_SECRET_REF",
            hint=f"set the environment variable(s) {', '.join(missing)} before running",
        )
    return values


class Redactor:
    """Replaces every secret value inside strings (nested in lists/dicts too) with ***."""

    def __init__(self, secret_values: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._values = sorted({v for v in secret_values if len(v) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, value: str) -> str:
        for secret in self._values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def value(self, value: Any) -> Any:
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        return value

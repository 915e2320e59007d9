"""Validation findings: errors stop a run, warnings are advice (errors with `--strict`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from flowscript.errors import FlowScriptError, MultipleErrors, SourceLocation

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a workflow, error or warning, where it is and what to do."""

    code: str
    message: str
    severity: Severity = "error"
    location: SourceLocation | None = None
    hint: str | None = None

    @classmethod
    def from_error(cls, error: FlowScriptError, *, severity: Severity = "error") -> Diagnostic:
        return cls(error.code, error.message, severity, error.location, error.hint)

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        label = "" if self.severity == "error" else "warning "
        text = f"{where}{label}{self.code} {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "hint": self.hint,
        }


def diagnostics_from_error(error: FlowScriptError) -> list[Diagnostic]:
    """Flattens a (possibly grouped) error into one diagnostic per problem."""
    if isinstance(error, MultipleErrors):
        return [Diagnostic.from_error(e) for e in error.errors]
    return [Diagnostic.from_error(error)]


class InvalidWorkflow(MultipleErrors):
    """Raised when validation found errors; carries every diagnostic (warnings included)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [
            FlowScriptError(d.message, code=d.code, hint=d.hint, location=d.location)
            for d in diagnostics
            if d.severity == "error"
        ]
        super().__init__(errors)
        self.diagnostics = diagnostics

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()

"""The project's error types: every error a user can cause is one of these.

Each carries a stable code (PARSE_*, VALID_*, EXPR_*, RUN_*), a message, an optional hint
and an optional source location, so the command line can print `file:line:column: CODE
message` and never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A 1-based position in a file (line and column count characters, not bytes)."""

    line: int
    column: int
    file: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.file}:" if self.file else ""
        return f"{prefix}{self.line}:{self.column}"


def restored(cls: type[BaseException], args: tuple[Any, ...], fields: dict[str, Any]) -> BaseException:
    """An exception back from pickling as it was, whatever its `__init__` takes: a node's error
    travels from the process that ran it (a Dask worker) to the flow's, retry fields and all."""
    error = cls.__new__(cls)
    BaseException.__init__(error, *args)
    error.__dict__.update(fields)
    return error


class FlowScriptError(Exception):
    """Base of every error the project reports to a user."""

    default_code = "FLOWSCRIPT_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        location: SourceLocation | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return restored, (type(self), self.args, self.__dict__)

    def render(self) -> str:
        """One line (plus an optional hint line) in the `file:line:column: CODE message` shape."""
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.code} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ParseError(FlowScriptError):
    """The .flow.md file cannot be read (YAML, XML, frontmatter, body)."""

    default_code = "PARSE_XML_INVALID"


class ValidationError(FlowScriptError):
    """The workflow reads but breaks a rule (ids, references, types, cycles...)."""

    default_code = "VALID_INVALID_FIELD_TYPE"


class ExpressionError(FlowScriptError):
    """An expression or template that does not parse or fails to evaluate.

    `expression` is the source text and `position` the 0-based offset of the problem in it;
    `column` is `position + 1`, relative to the expression.
    """

    default_code = "EXPR_EVAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        expression: str | None = None,
        position: int | None = None,
        hint: str | None = None,
        location: SourceLocation | None = None,
    ) -> None:
        super().__init__(message, code=code, hint=hint, location=location)
        self.expression = expression
        self.position = position

    @property
    def column(self) -> int | None:
        return None if self.position is None else self.position + 1

    def render(self) -> str:
        text = super().render()
        if self.expression is not None and self.location is None and self.position is not None:
            text += f"\n  in: {self.expression}\n      {' ' * self.position}^"
        return text


class MultipleErrors(FlowScriptError):
    """Several errors found together (a parse or validation pass that kept going)."""

    def __init__(self, errors: list[FlowScriptError]) -> None:
        first = errors[0]
        super().__init__(f"{len(errors)} errors", code=first.code, location=first.location)
        self.errors = errors

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


# ------------------------------------------------------------------ run-time node errors


class NodeError(FlowScriptError):
    """A node execution failed. `retryable` drives the retry policy (docs/language.md#retries-and-fallback)."""

    default_code = "RUN_NODE_FAILED"
    retryable = False

    @property
    def name(self) -> str:
        return type(self).__name__


class HttpError(NodeError):
    """A non-2xx answer; 429 and 5xx are retryable. Message: `HTTP 500: Internal Server Error`."""

    default_code = "RUN_HTTP_ERROR"

    def __init__(
        self,
        status: int,
        status_text: str,
        body: object = None,
        *,
        retry_after: float | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: {status_text}")
        self.status = status
        self.status_text = status_text
        self.body = body
        self.retry_after = retry_after
        self.url = url
        self.retryable = status == 429 or status >= 500


class AIError(NodeError):
    """The AI endpoint failed or answered unusably; rate limits, timeouts and 5xx are retryable."""

    default_code = "RUN_AI_ERROR"

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class FileError(NodeError):
    """A file could not be read or written, or its path is outside the working directory."""

    default_code = "RUN_FILE_ERROR"


class NodeTimeoutError(NodeError):
    """An attempt ran past its timeout (its work was cancelled). Retryable."""

    default_code = "RUN_TIMEOUT"
    retryable = True


class TransportError(NodeError):
    """The connection failed (refused, reset, DNS). Not retryable: docs/language.md#retries-and-fallback
    retries only 429/5xx answers, retryable AI errors and timeouts."""

    default_code = "RUN_TRANSPORT_ERROR"
    retryable = False

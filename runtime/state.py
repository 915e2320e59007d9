"""A run's state (docs/language.md#run-state): what ran, what it produced, where the run stands.

The same models are written to the state file by both backends, so `flowscript resume`
works whichever ran the workflow. Secret values never enter these models' JSON: the store
redacts them on the way out.
"""

from __future__ import annotations

import os
import socket
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel

from flowscript.errors import FlowScriptError, NodeError

RunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
NodeStatus = Literal["success", "failed", "skipped"]
STATE_FORMAT = 1


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def now_iso() -> str:
    """UTC timestamp with milliseconds, as JavaScript's toISOString prints it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ErrorInfo(_Camel):
    """An error as it round-trips through JSON (docs/language.md#persistence-and-resume): name, message,
    stack, retryable."""

    name: str
    message: str
    code: str | None = None
    stack: str | None = None
    retryable: bool | None = None

    @classmethod
    def from_exception(cls, error: BaseException) -> ErrorInfo:
        stack = None if isinstance(error, FlowScriptError) else "".join(
            traceback.format_exception(type(error), error, error.__traceback__, limit=8))
        return cls(
            name=type(error).__name__,
            message=str(error) or type(error).__name__,
            code=getattr(error, "code", None),
            stack=stack,
            retryable=bool(getattr(error, "retryable", False)) if isinstance(error, NodeError) else None,
        )


class NodeResult(_Camel):
    status: NodeStatus
    output: Any = None
    error: ErrorInfo | None = None
    duration: float = 0.0  # milliseconds
    started_at: str | None = None
    completed_at: str | None = None
    attempts: int = 0
    fell_back_to: str | None = None  # the fallback node whose output this is
    meta: dict[str, Any] = Field(default_factory=dict)  # usage figures, bound hit, iteration counts...
    secret: bool = False  # its output is secret-derived: kept in memory, written as *** (docs/language.md#secrets)
    # In memory only: when this execution started among the run's, so nodes that started in
    # the same millisecond keep their order in the log (whatever order they finished in).
    _start_order: int = PrivateAttr(default=-1)

    def started(self, order: int) -> NodeResult:
        self._start_order = order
        return self

    @property
    def start_order(self) -> int:
        return self._start_order


class Owner(_Camel):
    """The process running the run, so a resume can tell a live run from a dead one."""

    pid: int
    host: str

    @classmethod
    def current(cls) -> Owner:
        return cls(pid=os.getpid(), host=socket.gethostname())

    def is_alive(self) -> bool:
        if self.host != socket.gethostname():
            return True  # cannot tell: assume it is
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class Cancellation(_Camel):
    """Why a run was cancelled: a rejected checkpoint (who, when, comment) or a user's stop."""

    reason: str
    checkpoint: str | None = None
    action: str | None = None
    by: str | None = None
    comment: str | None = None
    at: str | None = None


class ContextLayers(_Camel):
    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    phase: dict[str, Any] = Field(default_factory=dict)
    node: dict[str, Any] = Field(default_factory=dict)


class RunState(_Camel):
    format: int = STATE_FORMAT
    workflow_id: str
    run_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    status: RunStatus = "pending"
    current_wave: int = 0
    started_at: str = Field(default_factory=now_iso)
    completed_at: str | None = None
    node_results: dict[str, NodeResult] = Field(default_factory=dict)
    context: ContextLayers = Field(default_factory=ContextLayers)
    config: dict[str, Any] = Field(default_factory=dict)
    input: Any = None
    workflow_path: str | None = None  # absolute, so a resume finds it from anywhere
    workdir: str | None = None  # where relative file paths were resolved
    workflow_sha256: str | None = None
    backend: str = "local"
    owner: Owner | None = None
    error: ErrorInfo | None = None
    errors: list[ErrorInfo] = Field(default_factory=list)  # every failure of the failing wave
    unfinished: list[str] = Field(default_factory=list)  # nodes cut off by the run timeout
    cancellation: Cancellation | None = None

    def __repr__(self) -> str:
        """Short, as asyncio and error reports print it: a full repr holds every node result
        (a run of 1,000 iterations took 30 ms to print when asyncio.run returned its state)."""
        return (f"RunState(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, status={self.status!r}, "
                f"node_results=<{len(self.node_results)}>)")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

"""A run's state (docs/language.md#run-state): what ran, what it produced, where the run stands.

The same values are written to the state file by both backends, so `flowscript resume`
works whichever ran the workflow. They are plain dataclasses with their JSON spelled out
(camelCase keys): a run never pays for building validation models, and loading checks what
a state file must hold, so a file that is not one says so. Secret values never enter this
JSON: the store redacts them on the way out.
"""

from __future__ import annotations

import os
import socket
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from flowscript.errors import FlowScriptError, NodeError

RunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
NodeStatus = Literal["success", "failed", "skipped"]
STATE_FORMAT = 1
_RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
_NODE_STATUSES = ("success", "failed", "skipped")


def now_iso() -> str:
    """UTC timestamp with milliseconds, as JavaScript's toISOString prints it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class ErrorInfo:
    """An error as it round-trips through JSON: name, message, stack, retryable."""

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

    def to_json_data(self) -> dict[str, Any]:
        return {"name": self.name, "message": self.message, "code": self.code, "stack": self.stack,
                "retryable": self.retryable}

    @classmethod
    def from_json_data(cls, data: Any) -> ErrorInfo:
        data = _mapping(data, "an error")
        return cls(name=_text(data, "name"), message=_text(data, "message"), code=_text(data, "code", None),
                   stack=_text(data, "stack", None), retryable=_flag(data, "retryable"))


@dataclass(slots=True)
class NodeResult:
    """One node execution's outcome, as the state file keeps it."""

    status: NodeStatus
    output: Any = None
    error: ErrorInfo | None = None
    duration: float = 0.0  # milliseconds
    started_at: str | None = None
    completed_at: str | None = None
    attempts: int = 0
    fell_back_to: str | None = None  # the fallback node whose output this is
    meta: dict[str, Any] = field(default_factory=dict)  # usage figures, bound hit, iteration counts...
    secret: bool = False  # its output is secret-derived: kept in memory, written as *** (docs/language.md#secrets)
    # In memory only: when this execution started among the run's, so nodes that started in
    # the same millisecond keep their order in the log (whatever order they finished in).
    start_order: int = field(default=-1, compare=False, repr=False)

    def started(self, order: int) -> NodeResult:
        self.start_order = order
        return self

    def to_json_data(self) -> dict[str, Any]:
        return {"status": self.status, "output": self.output,
                "error": self.error.to_json_data() if self.error is not None else None,
                "duration": self.duration, "startedAt": self.started_at, "completedAt": self.completed_at,
                "attempts": self.attempts, "fellBackTo": self.fell_back_to, "meta": self.meta, "secret": self.secret}

    @classmethod
    def from_json_data(cls, data: Any) -> NodeResult:
        data = _mapping(data, "a node result")
        status = data.get("status")
        if status not in _NODE_STATUSES:
            raise ValueError(f"a node result's status is {status!r}")
        error = data.get("error")
        duration = data.get("duration", 0.0)
        attempts = data.get("attempts", 0)
        if not isinstance(duration, int | float) or isinstance(duration, bool) or not isinstance(attempts, int):
            raise ValueError("a node result's duration and attempts are numbers")
        meta = data.get("meta") or {}
        return cls(status=status, output=data.get("output"),
                   error=ErrorInfo.from_json_data(error) if error is not None else None, duration=float(duration),
                   started_at=_text(data, "startedAt", None), completed_at=_text(data, "completedAt", None),
                   attempts=attempts, fell_back_to=_text(data, "fellBackTo", None),
                   meta=dict(_mapping(meta, "a node result's meta")), secret=bool(_flag(data, "secret")))


@dataclass(slots=True)
class Owner:
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


@dataclass(slots=True)
class Cancellation:
    """Why a run was cancelled: a rejected checkpoint (who, when, comment) or a user's stop."""

    reason: str
    checkpoint: str | None = None
    action: str | None = None
    by: str | None = None
    comment: str | None = None
    at: str | None = None

    def to_json_data(self) -> dict[str, Any]:
        return {"reason": self.reason, "checkpoint": self.checkpoint, "action": self.action, "by": self.by,
                "comment": self.comment, "at": self.at}

    @classmethod
    def from_json_data(cls, data: Any) -> Cancellation:
        data = _mapping(data, "a cancellation")
        return cls(reason=_text(data, "reason"), checkpoint=_text(data, "checkpoint", None),
                   action=_text(data, "action", None), by=_text(data, "by", None),
                   comment=_text(data, "comment", None), at=_text(data, "at", None))


@dataclass(slots=True)
class ContextLayers:
    """The `$context` layers a run carries (global, phase, node)."""

    global_: dict[str, Any] = field(default_factory=dict)
    phase: dict[str, Any] = field(default_factory=dict)
    node: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RunState:
    """Everything a run has done so far: what `resume` starts from."""

    workflow_id: str
    format: int = STATE_FORMAT
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: RunStatus = "pending"
    current_wave: int = 0
    started_at: str = field(default_factory=now_iso)
    completed_at: str | None = None
    node_results: dict[str, NodeResult] = field(default_factory=dict)
    context: ContextLayers = field(default_factory=ContextLayers)
    config: dict[str, Any] = field(default_factory=dict)
    input: Any = None
    workflow_path: str | None = None  # absolute, so a resume finds it from anywhere
    workdir: str | None = None  # where relative file paths were resolved
    workflow_sha256: str | None = None
    backend: str = "local"
    owner: Owner | None = None
    error: ErrorInfo | None = None
    errors: list[ErrorInfo] = field(default_factory=list)  # every failure of the failing wave
    unfinished: list[str] = field(default_factory=list)  # nodes cut off by the run timeout
    cancellation: Cancellation | None = None

    def __repr__(self) -> str:
        """Short, as asyncio and error reports print it: a full repr holds every node result
        (a run of 1,000 iterations took 30 ms to print when asyncio.run returned its state)."""
        return (f"RunState(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, status={self.status!r}, "
                f"node_results=<{len(self.node_results)}>)")

    def to_json_data(self) -> dict[str, Any]:
        """The state file's JSON (camelCase keys, every field)."""
        return {
            "format": self.format, "workflowId": self.workflow_id, "runId": self.run_id, "status": self.status,
            "currentWave": self.current_wave, "startedAt": self.started_at, "completedAt": self.completed_at,
            "nodeResults": {key: result.to_json_data() for key, result in self.node_results.items()},
            "context": {"global": self.context.global_, "phase": self.context.phase, "node": self.context.node},
            "config": self.config, "input": self.input, "workflowPath": self.workflow_path, "workdir": self.workdir,
            "workflowSha256": self.workflow_sha256, "backend": self.backend,
            "owner": {"pid": self.owner.pid, "host": self.owner.host} if self.owner is not None else None,
            "error": self.error.to_json_data() if self.error is not None else None,
            "errors": [e.to_json_data() for e in self.errors], "unfinished": list(self.unfinished),
            "cancellation": self.cancellation.to_json_data() if self.cancellation is not None else None,
        }

    @classmethod
    def from_json_data(cls, data: Any) -> RunState:
        """A state read back; ValueError or TypeError naming what a state file must hold."""
        data = _mapping(data, "a state")
        status = data.get("status", "pending")
        if status not in _RUN_STATUSES:
            raise ValueError(f"the run's status is {status!r}")
        wave = data.get("currentWave", 0)
        if not isinstance(wave, int) or isinstance(wave, bool):
            raise ValueError("currentWave is a whole number")
        context = _mapping(data.get("context") or {}, "the context")
        owner = data.get("owner")
        if owner is not None:
            owner = _mapping(owner, "the owner")
            if not isinstance(owner.get("pid"), int) or not isinstance(owner.get("host"), str):
                raise ValueError("the owner is a pid and a host")
        error, cancellation = data.get("error"), data.get("cancellation")
        return cls(
            format=int(data.get("format", STATE_FORMAT)), workflow_id=_text(data, "workflowId"),
            run_id=_text(data, "runId", None) or str(uuid.uuid4()), status=status, current_wave=wave,
            started_at=_text(data, "startedAt", None) or now_iso(), completed_at=_text(data, "completedAt", None),
            node_results={str(k): NodeResult.from_json_data(v)
                          for k, v in _mapping(data.get("nodeResults") or {}, "nodeResults").items()},
            context=ContextLayers(dict(_mapping(context.get("global") or {}, "the global context")),
                                  dict(_mapping(context.get("phase") or {}, "the phase context")),
                                  dict(_mapping(context.get("node") or {}, "the node context"))),
            config=dict(_mapping(data.get("config") or {}, "the config")), input=data.get("input"),
            workflow_path=_text(data, "workflowPath", None), workdir=_text(data, "workdir", None),
            workflow_sha256=_text(data, "workflowSha256", None), backend=_text(data, "backend", None) or "local",
            owner=Owner(owner["pid"], owner["host"]) if owner is not None else None,
            error=ErrorInfo.from_json_data(error) if error is not None else None,
            errors=[ErrorInfo.from_json_data(e) for e in data.get("errors") or []],
            unfinished=[str(k) for k in data.get("unfinished") or []],
            cancellation=Cancellation.from_json_data(cancellation) if cancellation is not None else None,
        )


_MISSING: Any = object()


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is a JSON object, not {type(value).__name__}")
    return value


def _text(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> Any:
    value = data.get(key, default)
    if value is _MISSING:
        raise ValueError(f"{key} is missing")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} is a string, not {type(value).__name__}")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} is true or false")
    return value

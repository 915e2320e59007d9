"""Exceptions that steer a run rather than report a bug: break, a rejected checkpoint,
and a node failure carried up through enclosing bodies."""

from __future__ import annotations

from typing import Any

from flowscript.errors import FlowScriptError, NodeError, restored


class BreakSignal(Exception):
    """`<break/>`: leaves the named (or innermost) loop; carries the last completed body output."""

    def __init__(self, loop_id: str | None, last_output: Any) -> None:
        super().__init__(f"break{f' {loop_id}' if loop_id else ''}")
        self.loop_id = loop_id
        self.last_output = last_output

    def __reduce__(self) -> tuple[Any, ...]:
        return restored, (type(self), self.args, self.__dict__)


class CheckpointRejected(NodeError):
    """A checkpoint's answer was reject: the run ends as cancelled."""

    default_code = "RUN_CHECKPOINT_REJECTED"

    def __init__(self, checkpoint_id: str, by: str, output: dict[str, Any], comment: str | None = None) -> None:
        super().__init__(f"rejected at checkpoint '{checkpoint_id}' by {by}"
                         + (f": {comment}" if comment else ""))
        self.checkpoint_id = checkpoint_id
        self.by = by
        self.output = output
        self.comment = comment


class NodeFailed(FlowScriptError):
    """A node (top-level or nested) failed; `cause` is the error that made it fail."""

    default_code = "RUN_NODE_FAILED"

    def __init__(self, node_id: str, key: str, cause: BaseException) -> None:
        root: BaseException = cause.cause if isinstance(cause, NodeFailed) else cause
        detail = root.message if isinstance(root, FlowScriptError) else str(root) or type(root).__name__
        super().__init__(f"node '{node_id}' failed: {detail}", code=getattr(root, "code", None))
        self.node_id = node_id
        self.key = key
        self.cause: BaseException = root

    @property
    def rejected(self) -> CheckpointRejected | None:
        return self.cause if isinstance(self.cause, CheckpointRejected) else None


class RunFailed(FlowScriptError):
    """The run ended failed (every failure of the failing wave is in `failures`) or cancelled."""

    default_code = "RUN_FAILED"

    def __init__(self, message: str, failures: list[NodeFailed] | None = None, *, cancelled: bool = False,
                 code: str | None = None) -> None:
        super().__init__(message, code=code or ("RUN_CANCELLED" if cancelled else self.default_code))
        self.failures = failures or []
        self.cancelled = cancelled

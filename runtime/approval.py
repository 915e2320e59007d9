"""Checkpoint approval in a terminal (docs/language.md#checkpoint).

With a terminal, the prompt waits for an answer up to the checkpoint's timeout (default
one hour), then takes the default action with timedOut: true. With no one to ask (no
terminal), the default action is taken at once with timedOut: false.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

from flowscript.errors import ValidationError
from flowscript.nodes.base import ApprovalDecision, ApprovalRequest
from flowscript.runtime.state import now_iso

DEFAULT_TIMEOUT_S = 3600.0
NO_ANSWER = "default (timeout)"  # who decided, when no one answered in time
_APPROVE = {"a", "approve", "y", "yes"}
_REJECT = {"r", "reject", "n", "no"}


def answered(request: ApprovalRequest, answers: Mapping[str, Any]) -> ApprovalDecision:
    """A checkpoint answered from a mapping (the Python API: checkpoint id -> "approve",
    "reject" or (action, comment)); a checkpoint not named takes its default at once."""
    answer = answers.get(request.checkpoint_id)
    if answer is None:
        return ApprovalDecision(request.default, False, now_iso(), "default (no one to ask)")
    action, comment = (answer, None) if isinstance(answer, str) else (answer[0], answer[1])
    if action not in ("approve", "reject"):
        raise ValidationError(f"the answer for checkpoint '{request.checkpoint_id}' is {action!r}",
                              code="VALID_INVALID_FIELD_TYPE", hint="give approve or reject")
    return ApprovalDecision("approve" if action == "approve" else "reject", False, now_iso(), "caller", comment)


async def ask_in_terminal(request: ApprovalRequest, *, interactive: bool | None = None) -> ApprovalDecision:
    if not (sys.stdin.isatty() if interactive is None else interactive):
        return ApprovalDecision(request.default, False, now_iso(), "default (no one to ask)")
    timeout = request.timeout_s if request.timeout_s is not None else DEFAULT_TIMEOUT_S
    print(f"\ncheckpoint {request.checkpoint_id}: {request.prompt}\n"
          f"  approve or reject, optionally followed by ': comment' "
          f"(default {request.default} in {timeout:g}s): ", end="", file=sys.stderr, flush=True)
    while True:
        try:
            async with asyncio.timeout(timeout):
                line = await _read_line()
        except TimeoutError:
            print(f"\n  no answer: {request.default}", file=sys.stderr)
            return ApprovalDecision(request.default, True, now_iso(), NO_ANSWER)
        answer, _, comment = line.strip().partition(":")
        word = answer.strip().lower()
        if word in _APPROVE or word in _REJECT or word == "":
            action = request.default if word == "" else ("approve" if word in _APPROVE else "reject")
            return ApprovalDecision(action, False, now_iso(), "terminal user", comment.strip() or None)
        print("  please answer approve or reject: ", end="", file=sys.stderr, flush=True)


async def _read_line() -> str:
    """Reads one line from stdin without blocking the event loop, and stops reading when cancelled."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    fd = sys.stdin.fileno()

    def on_readable() -> None:
        if not future.done():
            future.set_result(sys.stdin.readline())

    loop.add_reader(fd, on_readable)
    try:
        return await future
    finally:
        loop.remove_reader(fd)

"""A checkpoint asks on a terminal (a real pseudo-terminal here): the answer decides, and no
answer within the timeout takes the default action with timedOut: true."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
FLOW = """---
name: gate
version: 1.0.0
---

<workflow>
  <checkpoint id="ok" prompt="Ship {{input.n}} items?" default="DEFAULT" timeout="TIMEOUT"/>
  <transform id="after" type="template" input="ok"><template>{{input.action}} {{input.timedOut}}</template></transform>
  <sink id="save" type="file" input="after" path="out/decision.txt"/>
</workflow>
"""


def _read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                seen += os.read(fd, 1024)
            except OSError:  # the process ended and closed the terminal
                break
    return seen


def _run_on_a_terminal(folder: Path, answer: str | None, *, default: str = "reject",
                       timeout_ms: int = 20000) -> tuple[int, str]:
    (folder / "gate.flow.md").write_text(FLOW.replace("DEFAULT", default).replace("TIMEOUT", str(timeout_ms)))
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(FLOWSCRIPT), "run", "--local", "--no-log", "gate.flow.md", "--input", '{"n": 3}'],
                               cwd=folder, stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    try:
        shown = _read_until(controller, b"approve or reject", 20)
        if answer is not None:
            os.write(controller, answer.encode() + b"\n")
        out, _ = process.communicate(timeout=30)
        shown += _read_until(controller, b"\x00", 0.2)
    finally:
        os.close(controller)
    return process.returncode, out + shown.decode(errors="replace")


def test_an_approval_typed_on_the_terminal_continues_the_run(tmp_path):
    code, output = _run_on_a_terminal(tmp_path, "approve: looks good")
    assert code == 0, output
    assert "Ship 3 items?" in output
    assert (tmp_path / "out" / "decision.txt").read_text() == "approve false"


def test_a_rejection_typed_on_the_terminal_cancels_the_run(tmp_path):
    code, output = _run_on_a_terminal(tmp_path, "reject")
    assert code == 1 and "cancelled" in output, output
    assert not (tmp_path / "out").exists()


def test_no_answer_before_the_timeout_takes_the_default_with_timed_out(tmp_path):
    code, output = _run_on_a_terminal(tmp_path, None, default="approve", timeout_ms=300)
    assert code == 0, output
    assert (tmp_path / "out" / "decision.txt").read_text() == "approve true"

"""A `flowscript run --local` process killed (SIGKILL) in the middle of a wave, then resumed:
every node's side effect happens exactly once overall, and the outputs equal an
uninterrupted run's."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopback import CountingServer

FLOW = """---
name: crash-resume
version: 1.0.0
config:
  base_url: {type: string, default: "http://127.0.0.1:9"}
---

<workflow>
  <source id="fast" type="http" url="{{$config.base_url}}/fast"/>
  <source id="slow" type="http" url="{{$config.base_url}}/slow"/>
  <sink id="report" type="http" method="POST" url="{{$config.base_url}}/report" input="fast">
    <body>{{ {fast: fast.output, slow: slow.output} }}</body>
  </sink>
  <transform id="summary" type="template"><template>{{fast.output.n + slow.output.n}}</template></transform>
  <sink id="save" type="file" input="summary" path="./out/summary.txt"/>
</workflow>
"""
ANSWERS = {"/fast": {"n": 1}, "/slow": {"n": 41}, "/report": {"ok": True}}
FLOWSCRIPT = Path(sys.executable).parent / "flowscript"


def _journal_has(journal: Path, key: str) -> bool:
    if not journal.exists():
        return False
    return any(json.loads(line).get("key") == key for line in journal.read_text().splitlines() if line.strip())


def _wait_until(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FLOWSCRIPT), *args], cwd=folder, capture_output=True, text=True, timeout=60)


def test_sigkill_mid_wave_then_resume_runs_every_node_once(tmp_path):
    crashed, reference = tmp_path / "crashed", tmp_path / "reference"
    for folder in (crashed, reference):
        folder.mkdir()
        (folder / "wf.flow.md").write_text(FLOW)

    with CountingServer(ANSWERS) as server:
        server.hold("/slow")
        process = subprocess.Popen(
            [str(FLOWSCRIPT), "run", "--local", "wf.flow.md", "--run-id", "run-1", "-c", f"base_url={server.url}"],
            cwd=crashed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        journal = crashed / ".flowscript-state" / "crash-resume" / "run-1.journal.jsonl"
        try:
            server.wait_for("/slow")
            server.wait_for("/fast", committed=True)
            _wait_until(lambda: _journal_has(journal, "fast"))  # `fast` finished and was recorded
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        server.release(drop=True)  # the killed run's request to /slow never completes

        state_file = crashed / ".flowscript-state" / "crash-resume" / "run-1.json"
        assert json.loads(state_file.read_text())["status"] == "running"  # the owner died mid-run
        assert not (crashed / "out").exists()

        resumed = _run(crashed, "resume", str(state_file), "-c", f"base_url={server.url}")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert server.received == {"/fast": 1, "/slow": 2, "/report": 1}
        assert server.committed == {"/fast": 1, "/slow": 1, "/report": 1}
        crashed_body = list(server.bodies["/report"])

        uninterrupted = _run(reference, "run", "--local", "wf.flow.md", "-c", f"base_url={server.url}")
        assert uninterrupted.returncode == 0, uninterrupted.stdout + uninterrupted.stderr
        assert server.bodies["/report"] == crashed_body * 2 == [{"fast": {"n": 1}, "slow": {"n": 41}}] * 2

    assert (crashed / "out" / "summary.txt").read_text() == (reference / "out" / "summary.txt").read_text() == "42"
    final = json.loads(state_file.read_text())
    assert final["status"] == "completed"
    assert {k: r["status"] for k, r in final["nodeResults"].items()} == dict.fromkeys(
        ["fast", "slow", "report", "summary", "save"], "success")
    assert final["nodeResults"]["fast"]["attempts"] == 1
    assert not [p for p in (crashed / ".flowscript-state").rglob("*") if ".tmp" in p.name]

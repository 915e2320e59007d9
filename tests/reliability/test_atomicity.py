"""Atomicity under faults (docs/reliability.md): the state writer (snapshot and journal), the
file sink and the markdown log, each hit by a failed rename, a full disk and a read-only
folder. The old file survives byte for byte, no temporary file is left, and the error is a
FlowScript error with a code and a message naming the path (the command line prints it
without a traceback). The faults are injected (faults_support.py) and, where root can
mount one, real (a full or read-only tmpfs).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest
from cli_support import assert_no_traceback, invoke
from faults_support import FAULTS, fill, inject, remount_read_only, temp_files, tmpfs
from loopback import CountingServer

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.errors import FlowScriptError
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.persistence import load_state

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# two waves: a request (a side effect), then a file written from its answer
FLOW = """---
name: atomic
version: 1.0.0
config:
  base_url: {type: string, default: "http://127.0.0.1:9"}
---

# Atomicity

<workflow>
  <source id="fetch" type="http" url="{{$config.base_url}}/fetch"/>
  <transform id="line" type="template" input="fetch"><template>n={{fetch.output.n}}</template></transform>
  <sink id="save" type="file" input="line" path="./out/result.txt"/>
</workflow>
"""
OLD = b"the old file, written before the run\n"
STATE_FAULT_MESSAGE = {"replace": "Input/output error", "disk-full": "No space left on device",
                       "read-only": "Read-only file system"}


def _cli(*args: str) -> tuple[int, str]:
    result = invoke(list(args))
    return result.exit_code, _ANSI.sub("", result.stdout + result.stderr)


@pytest.fixture
def server():
    with CountingServer({"/fetch": {"n": 42}}) as counting:
        yield counting


@pytest.fixture
def flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "atomic.flow.md"
    path.write_text(FLOW, encoding="utf-8")
    return path


def _run(flow: Path, server: CountingServer, run_id: str = "run-1") -> Engine:
    loaded = load_workflow(flow)
    engine = Engine(loaded.plan, LocalBackend(interactive=False),
                    RunOptions(workdir=flow.parent, state_dir=flow.parent / ".state"))
    state = engine.new_state(resolve_config(loaded.workflow.meta, {"base_url": server.url}), run_id=run_id)
    asyncio.run(engine.run(state, {}))
    return engine


# ------------------------------------------------------------------ the state writer

@pytest.mark.parametrize("kind", FAULTS)
def test_a_failed_snapshot_keeps_the_previous_one_and_the_run_resumes(flow, server, monkeypatch, kind):
    """The start snapshot is written; the final one fails. The start snapshot survives, the
    journal still holds every finished node, and a resume finishes without re-running them."""
    state_dir = flow.parent / ".state" / "atomic"
    state_file = state_dir / "run-1.json"
    hits = inject(monkeypatch, kind, state_dir, match="run-1.json", after=1)
    with pytest.raises(FlowScriptError) as caught:
        _run(flow, server)
    monkeypatch.undo()
    assert hits["count"] >= 1
    error = caught.value
    assert error.code == "RUN_STATE_WRITE_FAILED"
    assert str(state_file) in error.message and STATE_FAULT_MESSAGE[kind] in error.message, error.message
    assert not temp_files(flow.parent)

    kept = load_state(state_file)  # the start snapshot plus the journal: readable, consistent
    assert kept.status == "running"
    assert {k: r.status for k, r in kept.node_results.items()} == {"fetch": "success", "line": "success",
                                                                    "save": "success"}
    assert json.loads(state_file.read_text())["nodeResults"] == {}  # the snapshot itself is the start one
    kept.owner = None  # the failed process is this one, still alive
    state_file.write_text(json.dumps(kept.to_json_data()))
    code, output = _cli("resume", str(state_file))
    assert code == 0, output
    assert server.committed["/fetch"] == 1
    assert load_state(state_file).status == "completed"


@pytest.mark.parametrize("kind", ["disk-full", "read-only"])
def test_a_failed_journal_append_is_a_clear_error(flow, server, monkeypatch, kind):
    state_dir = flow.parent / ".state" / "atomic"
    inject(monkeypatch, kind, state_dir, match="journal")
    with pytest.raises(FlowScriptError) as caught:
        _run(flow, server)
    monkeypatch.undo()
    assert caught.value.code == "RUN_STATE_WRITE_FAILED"
    assert str(state_dir / "run-1.journal.jsonl") in caught.value.message, caught.value.message
    assert STATE_FAULT_MESSAGE[kind] in caught.value.message
    assert load_state(state_dir / "run-1.json").status == "running"  # the start snapshot, intact


@pytest.mark.parametrize("kind", FAULTS)
def test_the_command_line_reports_a_state_write_failure_without_traceback(flow, server, monkeypatch, kind):
    """A state folder that cannot be written stops the run before any node runs."""
    inject(monkeypatch, kind, flow.parent / ".flowscript-state")
    code, output = _cli("run", "--local", str(flow), "--run-id", "r", "-c", f"base_url={server.url}")
    monkeypatch.undo()
    assert code == 2, output
    assert_no_traceback(output)
    assert "RUN_STATE_WRITE_FAILED" in output and "cannot write the state file" in output, output
    assert str(Path(".flowscript-state") / "atomic" / "r.json") in output, output
    assert "internal error" not in output
    assert server.received["/fetch"] == 0  # nothing ran
    assert not (flow.parent / "out").exists()
    assert not temp_files(flow.parent)


@pytest.mark.parametrize("kind", FAULTS)
def test_a_resume_that_cannot_write_leaves_the_state_as_it_was(flow, monkeypatch, kind):
    with CountingServer({"/fetch": {"n": 42}}, fail_first={"/fetch": [400]}) as server:
        code, output = _cli("run", "--local", str(flow), "--run-id", "r", "-c", f"base_url={server.url}")
        assert code == 1, output
        state_file = flow.parent / ".flowscript-state" / "atomic" / "r.json"
        before = state_file.read_bytes()
        inject(monkeypatch, kind, state_file.parent)
        code, output = _cli("resume", str(state_file))
        monkeypatch.undo()
        assert code == 2, output
        assert_no_traceback(output)
        assert f"RUN_STATE_WRITE_FAILED cannot write the state file {state_file}: {STATE_FAULT_MESSAGE[kind]}" \
            in output, output
        assert state_file.read_bytes() == before and server.received["/fetch"] == 1  # nothing ran
        assert not temp_files(flow.parent)
        code, output = _cli("resume", str(state_file))  # the fault gone, the resume works
        assert code == 0, output


# ------------------------------------------------------------------ the file sink

@pytest.mark.parametrize("kind", FAULTS)
def test_a_failed_file_sink_keeps_the_old_file(flow, server, monkeypatch, kind):
    target = flow.parent / "out" / "result.txt"
    target.parent.mkdir()
    target.write_bytes(OLD)
    inject(monkeypatch, kind, target.parent)
    code, output = _cli("run", "--local", str(flow), "--run-id", "r", "-c", f"base_url={server.url}")
    monkeypatch.undo()
    assert code == 1, output
    assert_no_traceback(output)
    assert target.read_bytes() == OLD
    assert not temp_files(flow.parent)
    state = load_state(flow.parent / ".flowscript-state" / "atomic" / "r.json")
    error = state.node_results["save"].error
    assert error is not None and error.code == "RUN_FILE_ERROR"
    assert error.message.startswith("cannot write out/result.txt: ") and STATE_FAULT_MESSAGE[kind] in error.message
    assert "cannot write out/result.txt" in output


# ------------------------------------------------------------------ the markdown log

@pytest.mark.parametrize("kind", FAULTS)
def test_a_failed_log_write_keeps_the_workflow_file_and_the_run_result(flow, server, monkeypatch, kind):
    before = flow.read_bytes()
    inject(monkeypatch, kind, flow.parent, match="atomic.flow.md")
    code, output = _cli("run", "--local", str(flow), "--run-id", "r", "-c", f"base_url={server.url}")
    monkeypatch.undo()
    assert code == 0, output  # the run completed; only its log could not be written
    assert_no_traceback(output)
    assert f"warning: could not write the execution log into {flow}" in output, output
    assert flow.read_bytes() == before
    assert not temp_files(flow.parent)


# ------------------------------------------------------------------ real faults (a tmpfs)

def test_a_real_full_disk(tmp_path, server, monkeypatch):
    """State folder and output folder on a full 64 KB tmpfs: the old files survive."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.flow.md").write_text(FLOW)
    with tmpfs(tmp_path / "disk") as disk:
        (disk / "out").mkdir()
        (disk / "out" / "result.txt").write_bytes(OLD)
        fill(disk)
        code, output = _cli("run", "--local", "wf.flow.md", "--run-id", "r", "--state-dir", "disk/state",
                            "-c", f"base_url={server.url}")
        assert code == 2, output
        assert_no_traceback(output)
        assert "RUN_STATE_WRITE_FAILED cannot write the state file disk/state/atomic/r.json" in output
        assert server.received["/fetch"] == 0

        flow = (tmp_path / "wf.flow.md").read_text().replace("./out/result.txt", "./disk/out/result.txt")
        (tmp_path / "wf.flow.md").write_text(flow)
        code, output = _cli("run", "--local", "wf.flow.md", "--run-id", "r", "-c", f"base_url={server.url}")
        assert code == 1, output
        assert_no_traceback(output)
        assert "cannot write disk/out/result.txt: No space left on device" in output
        assert (disk / "out" / "result.txt").read_bytes() == OLD
        assert not temp_files(disk)


def test_a_real_read_only_folder(tmp_path, server, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.flow.md").write_text(FLOW.replace("./out/result.txt", "./ro/out/result.txt"))
    with tmpfs(tmp_path / "ro") as ro:
        (ro / "out").mkdir()
        (ro / "out" / "result.txt").write_bytes(OLD)
        (ro / "state" / "atomic").mkdir(parents=True)
        (ro / "state" / "atomic" / "r.json").write_bytes(OLD)
        remount_read_only(ro)
        code, output = _cli("run", "--local", "wf.flow.md", "--run-id", "r", "--state-dir", "ro/state",
                            "-c", f"base_url={server.url}")
        assert code == 2, output
        assert_no_traceback(output)
        assert "RUN_STATE_WRITE_FAILED cannot write the state file ro/state/atomic/r.json: " \
               "Read-only file system" in output
        assert (ro / "state" / "atomic" / "r.json").read_bytes() == OLD

        code, output = _cli("run", "--local", "wf.flow.md", "--run-id", "r", "-c", f"base_url={server.url}")
        assert code == 1, output
        assert_no_traceback(output)
        assert "cannot write ro/out/result.txt: Read-only file system" in output
        assert (ro / "out" / "result.txt").read_bytes() == OLD


def test_a_real_full_disk_in_the_middle_of_the_journal(tmp_path, monkeypatch):
    """The start snapshot fits on an 8 KB tmpfs, a 14 KB journal line does not: the run
    stops with a clear error, the torn journal line is ignored when the state is loaded,
    and once there is room the resume finishes the run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.flow.md").write_text("---\nname: big\nversion: 1.0.0\n---\n\n<workflow>\n"
                                         '  <transform id="big" type="map" expression="range(0, 3000)"/>\n'
                                         '  <transform id="count" type="template" input="big"><template>{{len(big.output)}}</template>'
                                         "</transform>\n"
                                         "</workflow>\n")
    with tmpfs(tmp_path / "disk", size_kb=8) as disk:
        code, output = _cli("run", "--local", "wf.flow.md", "--run-id", "r", "--state-dir", "disk", "--no-log")
        assert code == 2, output
        assert_no_traceback(output)
        assert "RUN_STATE_WRITE_FAILED cannot write the state journal disk/big/r.journal.jsonl: " \
               "No space left on device" in output, output
        kept = load_state(disk / "big" / "r.json")
        assert kept.status == "running" and kept.node_results == {}
        kept.owner = None  # the failed run was this process
        (disk / "big" / "r.json").write_text(json.dumps(kept.to_json_data()))
        subprocess.run(["mount", "-o", "remount,size=1m", str(disk)], check=True)
        code, output = _cli("resume", str(disk / "big" / "r.json"), "--no-log")
        assert code == 0, output
        assert load_state(disk / "big" / "r.json").node_results["count"].output == "3000"


async def test_a_state_write_failure_stops_the_other_nodes_of_the_wave(tmp_path, monkeypatch):
    """The journal fails on the first finished node: the run raises, and the wave's other node
    is cancelled, not left running detached from a run that has already ended."""
    path = tmp_path / "wave.flow.md"
    path.write_text(FLOW.replace('<transform id="line"', '<source id="slow" type="http" '
                                 'url="{{$config.base_url}}/slow"/>\n  <transform id="line"'))
    with CountingServer({"/fetch": {"n": 1}, "/slow": {"n": 2}}, delays={"/slow": 0.5}) as server:
        loaded = load_workflow(path)
        assert list(loaded.plan.waves[0].node_ids) == ["fetch", "slow"]
        engine = Engine(loaded.plan, LocalBackend(interactive=False),
                        RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
        state = engine.new_state(resolve_config(loaded.workflow.meta, {"base_url": server.url}), run_id="r")
        inject(monkeypatch, "disk-full", tmp_path / ".state", match="journal")
        with pytest.raises(FlowScriptError, match="cannot write the state journal"):
            await engine.run(state, {})
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left, left
        assert state.node_results["slow"].status == "failed"  # cut off, as a stopped run's nodes are

"""Crash torture: a workflow of several waves whose every node has a side effect on a local
HTTP server, run as a real `flowscript` process that is SIGKILLed at random moments and
resumed until it completes (docs/reliability.md, "Crash torture").

The side-effect rule. The server commits a request's side effect when it answers it
(after its delay, before the answer is sent), as tests/loopback.py does. Every request
carries `X-Proc: N`, the number of the process that sent it (given as `-c proc=N`), so
each commit is tied to one process. A node *execution is successful* when its result is
recorded in the state file; the process that recorded it is the node's *recorder*
(learned by loading the state after every process ends). A killed process may have sent a
request whose side effect the server committed but whose result it never recorded (it
died while the request was in flight, or between the answer and the journal line): that
commit is an *orphan*, and the node runs again on resume. So, per node:

- exactly one commit comes from the recorder (local backend), and its body is the body of
  an uninterrupted run;
- every other commit is an orphan: from an earlier process, which was killed;
- no process commits a node twice, and no process after the recorder commits it at all;
- once recorded, a node's result never changes (it is never run again).

Through Prefect a node's result is also a persisted Prefect task result: a process killed
after that but before its journal line leaves a result the resumed flow run reads back
without sending the request again, so there the recorder may have no commit of its own;
the other rules are the same.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from loopback import LoopbackServer

from flowscript.compiler.loader import load_workflow
from flowscript.runtime.persistence import load_state

FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
WORKFLOW_ID = "torture"
ITEMS = [1, 2, 3, 4, 5]


# 8 nodes in 4 waves, 10 requests: a, b | each (5 items, 2 at a time), report, summary | save, done | ack
FLOW = """---
name: torture
version: 1.0.0
config:
  base_url: {type: string, default: "http://127.0.0.1:9"}
  proc: {type: string, default: "0"}
---

# Crash torture

<workflow>
  <source id="a" type="http">
    <request>
      url: {{$config.base_url}}/a
      headers:
        X-Proc: {{$config.proc}}
    </request>
  </source>
  <source id="b" type="http">
    <request>
      url: {{$config.base_url}}/b
      headers:
        X-Proc: {{$config.proc}}
    </request>
  </source>
  <foreach id="each" collection="a.output.items" concurrency="2">
    <sink id="put" type="http">
      <request>
        url: {{$config.base_url}}/item/{{item}}
        headers:
          X-Proc: {{$config.proc}}
        body: {{ {item: item, scale: b.output.n} }}
      </request>
    </sink>
  </foreach>
  <sink id="report" type="http" input="a">
    <request>
      url: {{$config.base_url}}/report
      headers:
        X-Proc: {{$config.proc}}
      body: {{ {a: a.output, b: b.output} }}
    </request>
  </sink>
  <transform id="summary" type="template"><template>{{sum(a.output.items) * b.output.n}}</template></transform>
  <sink id="save" type="file" input="summary" path="./out/summary.txt"/>
  <sink id="done" type="http" input="summary">
    <request>
      url: {{$config.base_url}}/done
      headers:
        X-Proc: {{$config.proc}}
      body: {{ {items: each.output, summary: summary.output} }}
    </request>
  </sink>
  <sink id="ack" type="http" input="done">
    <request>
      url: {{$config.base_url}}/ack
      headers:
        X-Proc: {{$config.proc}}
      body: {{ {done: done.output.status} }}
    </request>
  </sink>
</workflow>
"""
REQUESTS_PER_RUN = 10


def node_key(path: str) -> str:
    """The state-file key of the node execution that sends a request to `path`."""
    if path.startswith("/item/"):
        return f"each[{ITEMS.index(int(path.rsplit('/', 1)[1]))}].put"
    return path.lstrip("/")


WAVES = {0: {"a", "b"}, 1: {"each", *(f"each[{i}].put" for i in range(len(ITEMS))), "report", "summary"},
         2: {"save", "done"}, 3: {"ack"}}


def wave_of(path: str) -> int:
    return next(number for number, keys in WAVES.items() if node_key(path) in keys)


def answer_for(path: str) -> Any:
    if path == "/a":
        return {"items": ITEMS}
    if path == "/b":
        return {"n": 10}
    return {"ok": True, "path": path}


@dataclass(frozen=True)
class Commit:
    path: str
    proc: int
    body: Any


class TortureServer(LoopbackServer):
    """Answers every path (deterministically, with a fixed Date header) after a random
    delay of `delay_ms`; records every received request and every committed one with the
    number of the process that sent it."""

    def __init__(self, *, delay_ms: tuple[float, float] = (2, 12), seed: int = 0) -> None:
        self.delay_ms = delay_ms
        self._random = random.Random(seed)
        self.received: list[tuple[str, int]] = []
        self.commits: list[Commit] = []
        self.changed = threading.Condition()
        super().__init__()

    def received_from(self, proc: int) -> int:
        with self.changed:
            return sum(1 for _, p in self.received if p == proc)

    def wait_received(self, proc: int, count: int, process: subprocess.Popen[str], timeout: float) -> bool:
        """Waits until `proc` sent `count` requests; False when the process ended first."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while sum(1 for _, p in self.received if p == proc) < count:
                if process.poll() is not None or time.monotonic() > deadline:
                    return False
                self.changed.wait(0.02)
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None: ...

            def date_time_string(self, timestamp: float | None = None) -> str:
                return "Thu, 01 Jan 2026 00:00:00 GMT"

            def version_string(self) -> str:
                return "torture"

            def _serve(self) -> None:
                path = self.path.split("?")[0]
                proc = int(self.headers.get("X-Proc") or -1)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.changed:
                    server.received.append((path, proc))
                    delay = server._random.uniform(*server.delay_ms) / 1000
                    server.changed.notify_all()
                time.sleep(delay)
                payload = json.dumps(answer_for(path)).encode()
                with server.changed:  # the side effect is committed as the answer goes out
                    server.commits.append(Commit(path, proc, json.loads(body) if body else None))
                    server.changed.notify_all()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client died: the side effect stays committed (an orphan)

            do_GET = do_POST = _serve

        return Handler


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a `flowscript` process: our modules are byte-compiled once into a
    cache of the session (PYTHONDONTWRITEBYTECODE would make every start recompile them)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(os.environ.get("FLOWSCRIPT_TORTURE_PYCACHE", "/tmp/flowscript-torture-pyc")))
    env.update(extra or {})
    return env


@dataclass
class ProcessRecord:
    proc: int
    command: str  # run | resume
    mode: str  # how its kill moment was chosen, or "no-kill"
    killed: bool = False  # SIGKILLed while alive
    exit_code: int | None = None
    seconds: float = 0.0
    sent: int = 0  # requests it had sent when it was killed (or in all)


@dataclass
class TrialResult:
    trial: int
    processes: list[ProcessRecord] = field(default_factory=list)
    orphans: int = 0
    leftover_temps: int = 0  # temporary files of killed atomic writes (never read; see docs)
    seconds: float = 0.0
    completed: bool = False

    @property
    def kills(self) -> int:
        return sum(p.killed for p in self.processes)


class TrialFailure(AssertionError):
    pass


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise TrialFailure(message)


@dataclass
class Reference:
    """What an uninterrupted run produced."""

    outputs: dict[str, Any]
    bodies: dict[str, Any]
    summary: str
    seconds: float  # the whole process
    run_seconds: float  # from the first request to the exit


def write_flow(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wf.flow.md"
    path.write_text(FLOW, encoding="utf-8")
    return path


def _state_file(folder: Path, run_id: str | None) -> Path | None:
    runs = folder / ".flowscript-state" / WORKFLOW_ID
    if run_id is not None:
        return runs / f"{run_id}.json"
    found = sorted(runs.glob("*.json")) if runs.exists() else []
    return found[0] if found else None


def reference_run(folder: Path, *, prefect_env: dict[str, str] | None = None) -> Reference:
    write_flow(folder)
    with TortureServer(seed=1) as server:
        args = ["run", "wf.flow.md", "-c", f"base_url={server.url}", "-c", "proc=0"]
        if prefect_env is None:
            args[1:1] = ["--local"]
        t0 = time.monotonic()
        process = subprocess.Popen([str(FLOWSCRIPT), *args], cwd=folder, env=cli_env(prefect_env),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        server.wait_received(0, 1, process, 120)
        first_request = time.monotonic()
        out, err = process.communicate(timeout=120)
        seconds = time.monotonic() - t0
        assert process.returncode == 0, out + err
        state = load_state(_state_file(folder, None))
        bodies = {c.path: c.body for c in server.commits}
        assert len(server.commits) == REQUESTS_PER_RUN, server.commits
    return Reference({k: r.output for k, r in state.node_results.items()}, bodies,
                     (folder / "out" / "summary.txt").read_text(), seconds, time.monotonic() - first_request)


@dataclass
class TortureSettings:
    prefect_env: dict[str, str] | None = None  # None: --local
    kill_again: float = 0.5  # chance that a resume is killed too
    max_kills: int = 4
    timeout_s: float = 120
    modes: tuple[str, ...] = ("time", "request", "request", "request")  # how kill moments are drawn


def run_trial(trial: int, folder: Path, reference: Reference, rng: random.Random,
              settings: TortureSettings) -> TrialResult:
    """Runs the workflow, killing and resuming it until it completes; checks every rule of
    the module docstring; raises TrialFailure naming what broke."""
    t_trial = time.monotonic()
    fingerprint = load_workflow(write_flow(folder)).workflow.source_sha256
    local = settings.prefect_env is None
    run_id = f"trial-{trial}" if local else None
    result = TrialResult(trial)
    recorder: dict[str, int] = {}  # result key -> process that recorded its success
    recorded: dict[str, Any] = {}  # result key -> the NodeResult as first recorded
    killed_procs: set[int] = set()
    saved_after: dict[int, set[str]] = {}  # process -> the keys the state held as success once it ended
    with TortureServer(seed=rng.randrange(1 << 30)) as server:
        proc = 0
        while True:
            proc += 1
            _check(proc <= settings.max_kills + 3, f"trial {trial}: still not completed after {proc - 1} processes")
            state_file = _state_file(folder, run_id)
            if state_file is not None and state_file.exists():
                command = ["resume", str(state_file)]
            else:
                command = ["run", "wf.flow.md"] + (["--local", "--run-id", run_id] if local else [])
            command += ["-c", f"base_url={server.url}", "-c", f"proc={proc}"]
            kill = result.kills == 0 or (result.kills < settings.max_kills and rng.random() < settings.kill_again)
            record = _one_process(command, folder, server, proc, kill, reference, rng, settings)
            result.processes.append(record)
            if record.killed:
                killed_procs.add(proc)
            else:
                _check(record.exit_code == 0, f"trial {trial}: process {proc} ({record.command}) exited "
                                              f"{record.exit_code}")
            _check(load_workflow(folder / "wf.flow.md").workflow.source_sha256 == fingerprint,
                   f"trial {trial}: the workflow file is torn or changed")  # its log is rewritten atomically
            state_file = _state_file(folder, run_id)
            if state_file is None or not state_file.exists():
                _check(server.received_from(proc) == 0,
                       f"trial {trial}: process {proc} sent requests but left no state file")
                continue
            state = load_state(state_file)  # "no state file is ever unreadable"
            saved_after[proc] = {key for key, node in state.node_results.items() if node.status == "success"}
            for key, node in state.node_results.items():
                if node.status != "success":
                    continue
                if key in recorded:
                    _check(node == recorded[key], f"trial {trial}: {key} changed after it was recorded "
                                                  f"(re-run by process {proc})")
                else:
                    recorded[key], recorder[key] = node, proc
            summary = folder / "out" / "summary.txt"
            if summary.exists():
                _check(summary.read_text() == reference.summary, f"trial {trial}: out/summary.txt is torn")
            if state.status == "completed":
                break
            _check(state.status == "running", f"trial {trial}: state is {state.status} after process {proc}")
    result.completed = True
    _check({k: r.output for k, r in state.node_results.items()} == reference.outputs,
           f"trial {trial}: final outputs differ from an uninterrupted run")
    _check(all(r.status == "success" for r in state.node_results.values()), f"trial {trial}: a node did not succeed")
    _check((folder / "out" / "summary.txt").read_text() == reference.summary, f"trial {trial}: summary differs")
    result.orphans = _check_side_effects(trial, server.commits, recorder, killed_procs, reference, local)
    _check_waves(trial, server.received, server.commits, recorder, killed_procs, saved_after)
    result.leftover_temps = len(list(folder.rglob(".*.tmp")))
    result.seconds = time.monotonic() - t_trial
    return result


def _check_side_effects(trial: int, commits: list[Commit], recorder: dict[str, int], killed: set[int],
                        reference: Reference, local: bool) -> int:
    by_path: dict[str, list[Commit]] = {}
    for commit in commits:
        by_path.setdefault(commit.path, []).append(commit)
    _check(set(by_path) == set(reference.bodies), f"trial {trial}: requests to {sorted(by_path)}")
    orphans = 0
    for path, path_commits in by_path.items():
        key = node_key(path)
        owner = recorder[key]
        procs = Counter(c.proc for c in path_commits)
        _check(max(procs.values()) == 1, f"trial {trial}: {path} committed twice by one process: {procs}")
        late = [c.proc for c in path_commits if c.proc > owner]
        _check(not late, f"trial {trial}: {key} was recorded by process {owner} but ran again in {late}")
        own = [c for c in path_commits if c.proc == owner]
        if local:
            _check(len(own) == 1, f"trial {trial}: {key} recorded by process {owner} without its request")
        for commit in own:
            _check(commit.body == reference.bodies[path], f"trial {trial}: {path} body {commit.body}")
        others = [c.proc for c in path_commits if c.proc != owner]
        extra = others if own else others[:-1]  # through Prefect one earlier commit may be the recorded one
        _check(all(p in killed for p in extra), f"trial {trial}: {path} committed by live processes {extra}")
        if not own:
            _check(bool(others) and path_commits[-1].body == reference.bodies[path],
                   f"trial {trial}: {key} recorded by process {owner} but never committed")
        orphans += len(extra)
    return orphans


def _check_waves(trial: int, received: list[tuple[str, int]], commits: list[Commit], recorder: dict[str, int],
                 killed: set[int], saved_after: dict[int, set[str]]) -> None:
    """A killed process loses no finished node: a wave starts only once the results of the
    waves before it are journaled, so when process k had reached wave W, the state it left
    holds every node of the earlier waves, and its orphans all belong to wave W."""
    for proc in killed:
        waves = [wave_of(path) for path, p in received if p == proc]
        if not waves:
            continue
        reached = max(waves)
        missing = set().union(*(WAVES[w] for w in range(reached))) - saved_after.get(proc, set())
        _check(not missing, f"trial {trial}: process {proc} reached wave {reached} but the state it left "
                            f"lacks {sorted(missing)}")
        lost = [c.path for c in commits if c.proc == proc and recorder[node_key(c.path)] != proc
                and wave_of(c.path) != reached]
        _check(not lost, f"trial {trial}: process {proc} (killed in wave {reached}) lost finished nodes: {lost}")


def _one_process(command: list[str], folder: Path, server: TortureServer, proc: int, kill: bool,
                 reference: Reference, rng: random.Random, settings: TortureSettings) -> ProcessRecord:
    """Starts one `flowscript` process and, when `kill`, SIGKILLs it at a random moment:
    `time`: after a delay drawn from the whole length of an uninterrupted process;
    `request`: once the server has received its k-th request (k random), plus 0-30 ms."""
    mode = "no-kill" if not kill else rng.choice(settings.modes)
    record = ProcessRecord(proc, command[0], mode)
    t0 = time.monotonic()
    process = subprocess.Popen([str(FLOWSCRIPT), *command], cwd=folder, env=cli_env(settings.prefect_env),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if mode == "time":
            time.sleep(rng.uniform(0, reference.seconds))
        elif mode == "request":
            target = rng.randint(1, REQUESTS_PER_RUN)
            server.wait_received(proc, target, process, settings.timeout_s)
            time.sleep(rng.uniform(0, 0.03))
        if kill and process.poll() is None:
            record.sent = server.received_from(proc)
            process.send_signal(signal.SIGKILL)
            record.killed = True
        out, err = process.communicate(timeout=settings.timeout_s)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    record.exit_code = process.returncode
    record.seconds = time.monotonic() - t0
    if not record.killed:
        record.sent = server.received_from(proc)
        if process.returncode != 0:
            raise TrialFailure(f"process {proc} ({' '.join(command)}) exited {process.returncode}:\n{out}{err}")
        _check("Traceback" not in err, err)
    return record


def summarize(results: list[TrialResult], seconds: float) -> dict[str, Any]:
    processes = [p for r in results for p in r.processes]
    phases = Counter(("finished" if not p.killed else "killed at start-up (no request sent)" if not p.sent
                      else f"killed after {p.sent} of {REQUESTS_PER_RUN} requests") for p in processes)
    return {
        "trials": len(results),
        "completed": sum(r.completed for r in results),
        "processes": len(processes),
        "kills": sum(r.kills for r in results),
        "kill phases": dict(phases),
        "orphaned commits": sum(r.orphans for r in results),
        "leftover temporary files": sum(r.leftover_temps for r in results),
        "seconds": round(seconds, 1),
    }

"""Running one workflow with both backends and comparing everything a run leaves behind.

A `Snapshot` is what one run produced, with the few things that legitimately differ
between two runs masked, and nothing else (the ignore list):

  - the run id (the Prefect backend's is its flow run's id) and the run's folder (each
    backend runs in its own copy), wherever they appear;
  - in the state: the run's `startedAt`, `completedAt`, `owner` (pid, host) and `backend`
    ("local" / "prefect"); every node result's `startedAt`, `completedAt`, `duration`;
    `cancellation.at`, and a checkpoint's `respondedAt` wherever its answer goes;
  - in the log: Timestamp, Duration and each row's duration (and, for workflows whose
    nodes start at the same time and interleave, the order of the rows: see assert_same).

Everything else must be equal: the run's status and failure, every node result (keys
included, nested `each[3].x` keys too: status, output, error, attempts, fallback, meta),
every file in the folder (sink outputs byte for byte, inputs untouched), the state file
JSON and which state files exist, and the markdown log appended to the .flow.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowscript.runtime.markdown_log import is_iteration_key
from flowscript.runtime.state import RunState
from flowscript.signals import RunFailed

STATE_DIR = ".state"
# What legitimately differs between two runs of the same workflow (see the module docstring).
RUN_IGNORED = ("startedAt", "completedAt", "owner", "backend")
RESULT_IGNORED = ("startedAt", "completedAt", "duration")
ANSWER_TIME = "respondedAt"  # a checkpoint's output: when it was answered
RUN_ID, FOLDER, MASK = "<run-id>", "<folder>", "<masked>"
_LOG_HEADER = re.compile(r"^(\*\*(?:Timestamp|Duration):\*\*) .*$", re.MULTILINE)
_LOG_ROW_DURATION = re.compile(r"^(\| .+? \| (?:success|failed|skipped) \|) \d+\.\d\ds \|", re.MULTILINE)


@dataclass
class RunOutcome:
    """One run of one backend: its final state, its failure, and the folder it ran in."""

    backend: str
    state: RunState
    failure: RunFailed | None
    folder: Path

    @property
    def status(self) -> str:
        return self.state.status

    def result(self, key: str) -> Any:
        return self.state.node_results[key]


async def run_local(path: Path, *, config: dict[str, Any] | None = None, input: Any = None,
                    env: dict[str, str] | None = None, resume: RunState | None = None,
                    **options: Any) -> RunOutcome:
    """Runs (or resumes) a workflow on the local backend in this process, as the CLI does:
    secrets read from `env`, the workflow's folder as workdir, the log written into the file."""
    from local_runs import run_local as run_on_local

    outcome = await run_on_local(path, config=config, input=input, resume=resume, env=env or {},
                                 state_dir=path.parent / STATE_DIR, **options)
    return RunOutcome("local", outcome.state, outcome.failure, path.parent)


async def run_prefect(path: Path, *, config: dict[str, Any] | None = None, input: Any = None,
                      env: dict[str, str] | None = None, resume: RunState | None = None,
                      **options: Any) -> RunOutcome:
    """The same through Prefect: one flow run, every node execution a task run."""
    from prefect_support import run_on_prefect

    outcome = await run_on_prefect(path, config=config, input=input, env=env or {}, resume=resume,
                                   state_dir=path.parent / STATE_DIR, **options)
    return RunOutcome("prefect", outcome.state, outcome.failure, path.parent)


# ------------------------------------------------------------------ what a run leaves behind
@dataclass
class Snapshot:
    status: str
    failure: dict[str, Any] | None
    node_results: dict[str, Any]
    files: dict[str, bytes]  # every file of the folder but the state files and the workflows
    workflows: dict[str, str]  # every .flow.md, its log masked
    state_files: dict[str, Any]  # the state folder: JSON files parsed and masked, other files as text


def snapshot(outcome: RunOutcome) -> Snapshot:
    folder, run_id = outcome.folder, outcome.state.run_id

    def text(value: str) -> str:
        return value.replace(run_id, RUN_ID).replace(str(folder.resolve()), FOLDER).replace(str(folder), FOLDER)

    files: dict[str, bytes] = {}
    workflows: dict[str, str] = {}
    state_files: dict[str, Any] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = text(path.relative_to(folder).as_posix())
        if relative.startswith(STATE_DIR + "/"):
            content = path.read_text(encoding="utf-8")
            state_files[relative] = masked_state(json.loads(content), text) if path.suffix == ".json" else text(content)
        elif relative.endswith(".flow.md"):
            workflows[relative] = masked_log(text(path.read_text(encoding="utf-8")))
        else:
            files[relative] = path.read_bytes()
    failure = outcome.failure
    return Snapshot(
        status=outcome.state.status,
        failure=None if failure is None else masked({
            "type": type(failure).__name__, "message": failure.message, "code": failure.code,
            "cancelled": failure.cancelled, "failures": [(f.node_id, f.key, f.message) for f in failure.failures]},
            text),
        node_results={key: masked_result(result.to_json_data(), text)
                      for key, result in outcome.state.node_results.items()},
        files=files, workflows=workflows, state_files=state_files)


def masked(value: Any, text: Any) -> Any:
    """JSON with the run id and folder masked inside strings, and a checkpoint's answer time."""
    if isinstance(value, dict):
        return {k: MASK if k == ANSWER_TIME and v is not None else masked(v, text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, text) for v in value]
    return text(value) if isinstance(value, str) else value


def _without(value: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys kept (a key present in one run only still shows), their values masked."""
    return {k: MASK if k in keys and v is not None else v for k, v in value.items()}


def masked_result(result: dict[str, Any], text: Any) -> dict[str, Any]:
    return masked(_without(result, RESULT_IGNORED), text)


def masked_state(state: dict[str, Any], text: Any) -> dict[str, Any]:
    state = _without(state, RUN_IGNORED)
    state["nodeResults"] = {k: _without(r, RESULT_IGNORED) for k, r in state.get("nodeResults", {}).items()}
    if state.get("cancellation"):
        state["cancellation"] = _without(state["cancellation"], ("at",))
    return masked(state, text)


def masked_log(document: str) -> str:
    """The execution log with its timestamp and durations masked (the run id is masked already)."""
    return _LOG_ROW_DURATION.sub(rf"\1 {MASK} |", _LOG_HEADER.sub(rf"\1 {MASK}", document))


def assert_same(local: RunOutcome, prefect: RunOutcome, *, concurrent_starts: bool = False) -> Snapshot:
    """Both backends left the same things behind; returns the local snapshot for further checks.

    The log lists nodes in order of start time. `concurrent_starts`: the workflow starts nodes
    at once whose bodies then interleave as their work allows (a wave of containers, parallel
    branches), so which of them started first is timing; the two logs must then have the
    same rows, in any order. Either way each log must list its rows in its own start order."""
    assert local.state.backend == "local" and prefect.state.backend == "prefect"
    ours, theirs = snapshot(local), snapshot(prefect)
    assert ours.status == theirs.status
    assert ours.failure == theirs.failure
    assert sorted(ours.node_results) == sorted(theirs.node_results)
    for key in ours.node_results:
        assert ours.node_results[key] == theirs.node_results[key], f"node result {key!r} differs"
    assert sorted(ours.files) == sorted(theirs.files)
    for name in ours.files:
        assert ours.files[name] == theirs.files[name], f"file {name} differs"
    assert sorted(ours.state_files) == sorted(theirs.state_files)
    for name in ours.state_files:
        assert ours.state_files[name] == theirs.state_files[name], f"state file {name} differs"
    assert sorted(ours.workflows) == sorted(theirs.workflows)
    for name in ours.workflows:
        mine, yours = ours.workflows[name].splitlines(), theirs.workflows[name].splitlines()
        if concurrent_starts:
            mine, yours = _rows_sorted(mine), _rows_sorted(yours)
        assert mine == yours, f"{name} differs"
    for outcome in (local, prefect):
        assert_log_in_start_order(outcome)
    return ours


def log_rows(lines: list[str]) -> tuple[int, int]:
    """Where the node rows of the execution log are: lines[start:end]."""
    if "## Execution Log" not in lines:
        return len(lines), len(lines)
    start = lines.index("|------|--------|----------|--------|", lines.index("## Execution Log")) + 1
    end = start
    while end < len(lines) and lines[end].startswith("| "):
        end += 1
    return start, end


def _rows_sorted(lines: list[str]) -> list[str]:
    start, end = log_rows(lines)
    return lines[:start] + sorted(lines[start:end]) + lines[end:]


def assert_log_in_start_order(outcome: RunOutcome) -> None:
    """The log's rows are the run's nodes (no iteration entries) in the order they started."""
    path = Path(outcome.state.workflow_path or "")
    lines = path.read_text(encoding="utf-8").splitlines()
    start, end = log_rows(lines)
    listed = [line[2:].split(" | ", 1)[0] for line in lines[start:end]]
    results = outcome.state.node_results
    started = sorted((key for key in results if not is_iteration_key(key)),
                     key=lambda key: (results[key].started_at or "", results[key].start_order))
    assert listed == started, f"{outcome.backend}: log rows not in start order"

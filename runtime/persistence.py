"""The state file (docs/language.md#persistence-and-resume): atomic snapshots plus a per-node journal.

A snapshot `<state-dir>/<workflowId>/<runId>.json` is written atomically at the start,
on failure and at the end. Between snapshots each finished node execution is appended to
`<runId>.journal.jsonl`, so a process killed in the middle of a wave loses no finished
node: loading replays the journal over the snapshot (a torn last line, the only damage a
kill can do to an append, is ignored). Appends are O(1), which keeps a 1,000-item foreach
from rewriting the whole state 1,000 times. After every wave the wave is saved the same
way: a journal line with its number, and a new snapshot only once the journal has grown
as big as the last snapshot and past COMPACT_AFTER_BYTES, so each result is rewritten a
bounded number of times (a full snapshot per wave made a chain of 1,000 nodes quadratic)
and a run of ordinary size writes two snapshots, each one fsynced (five more cost a 50-node
chain on Prefect about 35 ms a run); after the last wave (or a failed one) just
the line, since the run's end writes a snapshot next. Lines are printed
by orjson (plain_json): they load back exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import orjson

from flowscript.errors import FlowScriptError
from flowscript.expressions.printing import escape_surrogates
from flowscript.nodes.io.atomic import atomic_write_bytes
from flowscript.runtime.secrets import REDACTED, Redactor
from flowscript.runtime.state import NodeResult, RunState

DEFAULT_STATE_DIR = ".flowscript-state"
COMPACT_AFTER_BYTES = 1 << 20  # a journal this long replays in tens of milliseconds


class StateFileError(FlowScriptError):
    default_code = "RUN_STATE_INVALID"


WRITE_FAILED = "RUN_STATE_WRITE_FAILED"
_WRITE_HINT = "the state folder must be writable and have free space (choose another with --state-dir)"


def _write_error(what: str, path: Path, error: OSError) -> StateFileError:
    """A failed state write as a user's error: the path, the reason, no traceback."""
    reason = error.strerror or str(error) or type(error).__name__
    return StateFileError(f"cannot write the {what} {path}: {reason}", code=WRITE_FAILED, hint=_WRITE_HINT)


def plain_json(value: Any) -> str:
    """Compact JSON of a value made of JSON types only, as Python holds it: integers beyond
    2**53 and floats exactly, so the state file loads back what the run had (JavaScript's
    spellings are for what users read); NaN and infinities are null. orjson writes 100,000
    records ten times as fast as json.dumps; an integer beyond 64 bits or a string with a lone
    surrogate, which orjson refuses, goes through json.dumps."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return escape_surrogates(json.dumps(_nan_free(value), ensure_ascii=False, allow_nan=False,
                                            separators=(",", ":")))


def _nan_free(value: Any) -> Any:
    """NaN and infinities as null, as orjson writes them (json.dumps would refuse them)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _nan_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_free(v) for v in value]
    return value


def state_path(state_dir: str | os.PathLike[str], workflow_id: str, run_id: str) -> Path:
    return Path(state_dir) / file_safe(workflow_id) / f"{file_safe(run_id)}.json"


def journal_path(path: Path) -> Path:
    return path.with_name(path.stem + ".journal.jsonl")


def file_safe(name: str) -> str:
    """Keeps ids usable as file names (no separators, no leading dots)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return cleaned or "_"


class StateStore:
    """Writes one run's state; never writes a secret value."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self.journal = journal_path(path)
        self._redactor = redactor
        self._journal_handle: Any = None
        self._snapshot_bytes = 0
        self._journal_bytes = 0

    def save(self, state: RunState) -> None:
        """Replaces the snapshot atomically; on failure the previous one (and the journal) stays."""
        data = written_state(state.to_json_data(), self._redactor)
        payload = snapshot_text(data).encode("utf-8")
        try:
            atomic_write_bytes(self.path, payload)
        except OSError as e:
            raise _write_error("state file", self.path, e) from None
        self._snapshot_bytes = len(payload)
        self._truncate_journal()

    def wave_finished(self, state: RunState, *, last: bool = False) -> None:
        """Saves the state after a wave: its results are in the journal already. After the
        last wave (or a failed one) only the line: the run's end writes the snapshot next.
        The wave's line is not flushed on its own but with the next write (the next node's
        line, a snapshot, the close): a kill that loses it only makes a resume start one wave
        earlier, at a wave whose results are all recorded, none of which it runs again. A
        chain is a wave per node, and each flush is a system call, a moment the backend's
        other threads take the GIL."""
        if self._journal_bytes >= max(self._snapshot_bytes, COMPACT_AFTER_BYTES) and not last:
            self.save(state)
        else:
            self._append(plain_json({"currentWave": state.current_wave}), flush=False)

    def record(self, key: str, result: NodeResult) -> None:
        """Appends one finished node execution to the journal (flushed, so a kill keeps it)."""
        data = written_result(result.to_json_data(), self._redactor)
        self._append(plain_json({"key": key, "result": data}))

    def _append(self, line: str, *, flush: bool = True) -> None:
        try:
            if self._journal_handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._journal_handle = open(self.journal, "a", encoding="utf-8")  # noqa: SIM115
            self._journal_handle.write(line + "\n")
            if flush:
                self._journal_handle.flush()
        except OSError as e:
            raise _write_error("state journal", self.journal, e) from None
        self._journal_bytes += len(line) + 1

    def close(self) -> None:
        if self._journal_handle is not None:
            self._journal_handle.close()
            self._journal_handle = None

    def _truncate_journal(self) -> None:
        self.close()
        self._journal_bytes = 0
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()


_USER_DATA = ("config", "input", "context", "error", "errors", "cancellation")  # what may hold secret text


def written_state(data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """The state's JSON as the state file holds it: secrets and secret-derived text cut out of
    what may hold them (outputs, errors, config, input, context), the file's own fields (ids,
    statuses, times, paths) left as they are, so a secret that happens to be a word the file
    uses ("completed") cannot make it unreadable."""
    written = dict(data)
    written["nodeResults"] = {key: written_result(result, redactor) for key, result in data["nodeResults"].items()}
    for name in _USER_DATA:
        if name in written:
            written[name] = redactor.value(written[name])
    return written


def written_result(data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A node result's JSON as written: a secret-derived output is `***` (docs/language.md#secrets)."""
    written = dict(data)
    written["output"] = REDACTED if data.get("secret") else redactor.value(data.get("output"))
    written["error"] = redactor.value(data.get("error"))
    written["meta"] = redactor.value(data.get("meta"))
    return written


def snapshot_text(data: dict[str, Any]) -> str:
    """The state as JSON with a line per field and per node result: easy to read and to diff,
    and quick to write (each line is one compact plain_json; an indented snapshot of 1,000
    results through a pure-Python encoder took ten times as long)."""

    def lines(mapping: dict[str, Any], indent: str, nested: str | None) -> list[str]:
        out = []
        for i, (key, value) in enumerate(mapping.items()):
            comma = "," if i < len(mapping) - 1 else ""
            if key == nested and isinstance(value, dict) and value:
                out += [f"{indent}{plain_json(key)}: {{", *lines(value, indent + "  ", None), f"{indent}}}{comma}"]
            else:
                out.append(f"{indent}{plain_json(key)}: {plain_json(value)}{comma}")
        return out

    return "\n".join(["{", *lines(data, "  ", "nodeResults"), "}"]) + "\n"


def load_state(path: str | os.PathLike[str]) -> RunState:
    """The snapshot with the journal replayed over it."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StateFileError(f"no state file at {path}", hint="give the path printed at the end of the run "
                             "(under .flowscript-state/<workflow>/<run-id>.json)") from None
    except OSError as e:
        raise StateFileError(f"cannot read state file {path}: {e.strerror}") from None
    try:
        state = RunState.from_json_data(json.loads(raw))
    except (ValueError, TypeError) as e:
        raise StateFileError(f"{path} is not a FlowScript state file: {str(e).splitlines()[0]}") from None
    for key, entry in _journal_entries(journal_path(path)):
        if isinstance(entry, NodeResult):
            state.node_results[key] = entry
        else:
            state.current_wave = entry
    return state


def _journal_entries(path: Path) -> list[tuple[str, NodeResult | int]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries: list[tuple[str, NodeResult | int]] = []
    for line in lines:
        try:
            item = json.loads(line)
            if "currentWave" in item:  # a wave finished
                entries.append(("", int(item["currentWave"])))
            else:
                entries.append((item["key"], NodeResult.from_json_data(item["result"])))
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a killed process
    return entries

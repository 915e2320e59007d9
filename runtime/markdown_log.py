"""The markdown execution log (docs/language.md#the-execution-log), written into the .flow.md file.

The log section replaces the previous one (or is appended); every byte before it is kept.
Rows are the run's nodes (top-level and nested, not per-iteration entries: those are in
the state file), in order of start time (nodes started in the same millisecond in the order
they started, not the order they finished); secret values are redacted. A node that ran
more than once (in a loop, a while, a foreach) is failed when any of its executions failed,
and its row says how many: `Error: 1 of 3 executions failed: MESSAGE`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flowscript.expressions import to_json
from flowscript.nodes.io.atomic import atomic_write_bytes
from flowscript.runtime.secrets import REDACTED, Redactor
from flowscript.runtime.state import NodeResult, RunState
from flowscript.syntax.log_section import log_section_start

OUTPUT_WIDTH = 50


def is_iteration_key(key: str) -> bool:
    """`each[3].fmt` and `live->cache` are detail entries of the state file, not log rows."""
    return "[" in key or "->" in key


def execution_counts(state: RunState) -> dict[str, tuple[int, int, str | None]]:
    """For each node that ran more than once (a body node of a loop, a foreach, a while):
    (its executions, how many failed, the first failure's message), by node id. Its plain
    key holds only its last execution's result."""
    counts: dict[str, tuple[int, int, str | None]] = {}
    for key, result in state.node_results.items():
        if "[" not in key or "->" in key:
            continue
        node_id = key.rsplit(".", 1)[-1]
        total, failed, first = counts.get(node_id, (0, 0, None))
        if result.status == "failed":
            failed += 1
            if first is None and result.error is not None:
                first = result.error.message
        counts[node_id] = (total + 1, failed, first)
    return counts


def row_status(result: NodeResult, counts: tuple[int, int, str | None] | None) -> str:
    """A node's status in the log: failed when any of its executions failed."""
    return "failed" if counts is not None and counts[1] else result.status


def format_log(state: RunState, redactor: Redactor) -> str:
    rows = sorted(((k, r) for k, r in state.node_results.items() if not is_iteration_key(k)),
                  key=lambda item: (item[1].started_at or "", item[1].start_order))
    counts = execution_counts(state)
    lines = [
        "---",
        "",
        "## Execution Log",
        "",
        f"**Run ID:** `{state.run_id}`",
        f"**Workflow:** {state.workflow_id}",
        f"**Timestamp:** {state.started_at}",
        f"**Duration:** {run_duration_s(state):.2f}s",
        f"**Status:** {state.status}",
        f"**Waves:** {state.current_wave + 1}",
        "",
        "### Node Results",
        "",
        "| Node | Status | Duration | Output |",
        "|------|--------|----------|--------|",
    ]
    for key, result in rows:
        ran = counts.get(key)
        lines.append(f"| {key} | {row_status(result, ran)} | {result.duration / 1000:.2f}s | "
                     f"{_cell(result, redactor, ran)} |")
    return "\n".join(lines) + "\n"


def _cell(result: NodeResult, redactor: Redactor, ran: tuple[int, int, str | None] | None = None) -> str:
    if ran is not None and ran[1]:
        total, failed, first = ran
        message = f": {' '.join(redactor.text(first).split())}" if first else ""
        text = f"Error: {failed} of {total} executions failed{message}"
    elif result.status == "failed" and result.error is not None:
        text = "Error: " + " ".join(redactor.text(result.error.message).split())
    elif result.status == "skipped":
        text = ""
    elif result.secret:
        text = REDACTED  # a secret-derived output (docs/language.md#secrets)
    else:
        text = to_json(redactor.value(result.output))
        if len(text) > OUTPUT_WIDTH:
            text = text[: OUTPUT_WIDTH - 3] + "..."
    return text.replace("|", "\\|")


def run_duration_s(state: RunState) -> float:
    if not state.completed_at:
        return 0.0
    start = datetime.fromisoformat(state.started_at.replace("Z", "+00:00"))
    end = datetime.fromisoformat(state.completed_at.replace("Z", "+00:00"))
    return max(0.0, (end - start).total_seconds())


def with_log(document: str, log: str) -> str:
    """The document with its log section replaced by `log` (or `log` appended)."""
    start = log_section_start(document)
    head = document if start is None else document[:start]
    newline = "\r\n" if "\r\n" in document else "\n"
    if start is None:
        head = head if head.endswith(newline) or not head else head + newline
        head += newline
    return head + log.replace("\n", newline)


def write_log(path: Path, log: str) -> None:
    """Rewrites the workflow file atomically with the new log section."""
    document = path.read_bytes().decode("utf-8")
    atomic_write_bytes(path, with_log(document, log).encode("utf-8"))

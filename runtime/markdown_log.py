"""The markdown execution log (docs/language.md#the-execution-log), written into the .flow.md file.

The log section replaces the previous one (or is appended); every byte before it is kept.
Rows are the run's nodes (top-level and nested, not per-iteration entries: those are in
the state file), in order of start time (nodes started in the same millisecond in the order
they started, not the order they finished); secret values are redacted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flowscript.expressions import to_json
from flowscript.nodes.io.atomic import atomic_write_bytes
from flowscript.runtime.secrets import Redactor
from flowscript.runtime.state import NodeResult, RunState
from flowscript.syntax.log_section import log_section_start

OUTPUT_WIDTH = 50


def is_iteration_key(key: str) -> bool:
    """`each[3].fmt` and `live->cache` are detail entries of the state file, not log rows."""
    return "[" in key or "->" in key


def format_log(state: RunState, redactor: Redactor) -> str:
    rows = sorted(((k, r) for k, r in state.node_results.items() if not is_iteration_key(k)),
                  key=lambda item: (item[1].started_at or "", item[1].start_order))
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
        lines.append(f"| {key} | {result.status} | {result.duration / 1000:.2f}s | "
                     f"{_cell(result, redactor)} |")
    return "\n".join(lines) + "\n"


def _cell(result: NodeResult, redactor: Redactor) -> str:
    if result.status == "failed" and result.error is not None:
        text = "Error: " + " ".join(redactor.text(result.error.message).split())
    elif result.status == "skipped":
        text = ""
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

"""Writing a workflow file and running it with the local engine, for the reliability tests."""

from __future__ import annotations

from pathlib import Path

from local_runs import run_local

__all__ = ["run_local", "write_workflow"]


def write_workflow(folder: Path, body: str, *, name: str = "reliability", extra: str = "") -> Path:
    path = folder / f"{name}.flow.md"
    path.write_text(f"---\nname: {name}\nversion: 1.0.0\n{extra}---\n\n# {name}\n\n<workflow>\n{body.strip()}\n"
                    "</workflow>\n", encoding="utf-8")
    return path

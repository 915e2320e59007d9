"""The Prefect entry point: a workflow file becomes the Prefect flow that runs it.

`flow_for(path)` builds the flow (`flowscript run FILE` calls it in this process). A
deployment's entrypoint is `flowscript.flows.workflow_flows.<name>`: when Prefect (a
worker, `flowscript serve`, `prefect deploy`) loads it, this module finds the workflow
named `<name>` in the folder FLOWSCRIPT_WORKFLOWS_DIR names (a deployment's pull step sets
it to the run's folder on the worker), else in the current folder, and builds its flow. Everything a flow does
lives in `prefect_backend/` and `runtime/`; this module stays thin.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prefect import Flow

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.parser import parse_workflow_file
from flowscript.errors import FlowScriptError
from flowscript.prefect_backend.flow_builder import build_flow

WORKFLOWS_DIR_ENV = "FLOWSCRIPT_WORKFLOWS_DIR"


def entry_name(workflow_name: str) -> str:
    """The attribute of this module that stands for a workflow (no dots: Prefect splits on them)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", workflow_name)


def flow_for(path: str | os.PathLike[str]) -> Flow:
    """The flow of one .flow.md file (raises InvalidWorkflow, with every diagnostic, when it is not valid)."""
    flow = build_flow(load_workflow(path).plan)
    flow.__module__ = __name__  # so a deployment's entrypoint points back here
    flow.__name__ = entry_name(flow.name)  # type: ignore[attr-defined]  # the name Prefect's entrypoint looks up
    return flow


def workflow_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The folder's workflows; hidden files and folders inside it are skipped (the folder itself
    may be hidden or under a hidden one: a run's folder is under ~/.flowscript)."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*.flow.md")
                  if not any(part.startswith(".") for part in p.relative_to(root).parts))


def __getattr__(name: str) -> Flow:
    if name.startswith("__"):
        raise AttributeError(name)
    folder = os.environ.get(WORKFLOWS_DIR_ENV) or os.getcwd()
    for path in workflow_files(folder):
        try:
            if entry_name(parse_workflow_file(path).meta.name) == name:
                return flow_for(path)
        except FlowScriptError:
            continue
    raise AttributeError(f"no workflow named {name!r} in {folder}")

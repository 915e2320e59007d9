"""One call from a .flow.md path to a checked plan: parse, validate, plan."""

from __future__ import annotations

import os
from dataclasses import dataclass

from flowscript.compiler.ast import Workflow
from flowscript.compiler.diagnostics import Diagnostic, InvalidWorkflow, diagnostics_from_error
from flowscript.compiler.parser import parse_workflow_file, parse_workflow_text
from flowscript.compiler.planner import Plan
from flowscript.compiler.validator import check_workflow
from flowscript.errors import FlowScriptError


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    """A workflow read, checked and planned: what every command starts from."""

    workflow: Workflow
    plan: Plan
    diagnostics: list[Diagnostic]  # warnings only (errors raise)


def load_workflow(path: str | os.PathLike[str], *, strict: bool = False) -> LoadedWorkflow:
    """Raises InvalidWorkflow carrying every diagnostic when the file has errors
    (or warnings, when `strict`)."""
    try:
        workflow = parse_workflow_file(path)
    except FlowScriptError as e:
        raise InvalidWorkflow(diagnostics_from_error(e)) from None
    return _checked(workflow, strict)


def load_workflow_text(text: str, *, path: str | None = None, strict: bool = False) -> LoadedWorkflow:
    """`load_workflow` for a workflow's text (`path` only names it in locations)."""
    try:
        workflow = parse_workflow_text(text, path)
    except FlowScriptError as e:
        raise InvalidWorkflow(diagnostics_from_error(e)) from None
    return _checked(workflow, strict)


def _checked(workflow: Workflow, strict: bool) -> LoadedWorkflow:
    diagnostics, plan = check_workflow(workflow)
    failing = [d for d in diagnostics if d.severity == "error" or strict]
    if failing or plan is None:
        if strict:
            diagnostics = [Diagnostic(d.code, d.message, "error", d.location, d.hint) for d in diagnostics]
        raise InvalidWorkflow(diagnostics)
    return LoadedWorkflow(workflow, plan, diagnostics)

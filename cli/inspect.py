"""Commands that read workflows without running them: validate, parse, plan, functions."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from flowscript.cli.app import EXIT_INVALID, app, reports_errors
from flowscript.compiler.diagnostics import Diagnostic, InvalidWorkflow
from flowscript.compiler.loader import load_workflow
from flowscript.compiler.planner import Plan


class Format(StrEnum):
    text = "text"
    json = "json"


FILES = typer.Argument(..., help=".flow.md files", show_default=False)
FORMAT = typer.Option(Format.text, "--format", help="Output format.")


@app.command()
@reports_errors
def validate(
    files: list[Path] = FILES,
    format: Format = FORMAT,
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check workflows; print every error and warning with file:line:column. Exit 2 when invalid."""
    results: dict[str, list[Diagnostic]] = {}
    invalid = False
    for file in files:
        try:
            results[str(file)] = load_workflow(file, strict=strict).diagnostics
        except InvalidWorkflow as e:
            results[str(file)] = e.diagnostics
            invalid = True
    if format is Format.json:
        typer.echo(json.dumps({"valid": not invalid, "files": {
            f: [d.to_json() for d in ds] for f, ds in results.items()}}, indent=2))
    else:
        for shown, diagnostics in results.items():
            for d in diagnostics:
                typer.echo(d.render(), err=True)
            errors = sum(d.severity == "error" for d in diagnostics)
            warnings = len(diagnostics) - errors
            status = "invalid" if errors else "valid"
            typer.echo(f"{shown}: {status} ({errors} error(s), {warnings} warning(s))")
    if invalid:
        raise typer.Exit(EXIT_INVALID)


@app.command()
@reports_errors
def parse(
    file: Path | None = typer.Argument(None, help="a .flow.md file", show_default=False),
    schema: bool = typer.Option(False, "--schema", help="Print the AST's JSON Schema instead."),
) -> None:
    """Print a workflow's AST as JSON (or, with --schema, the JSON Schema of every AST)."""
    from flowscript.compiler.ast import to_json, workflow_json_schema
    from flowscript.compiler.parser import parse_workflow_file

    if schema:
        typer.echo(json.dumps(workflow_json_schema(), indent=2))
        return
    if file is None:
        raise typer.BadParameter("give a .flow.md file, or --schema")
    workflow = parse_workflow_file(file)
    typer.echo(json.dumps(to_json(workflow), indent=2, ensure_ascii=False))


@app.command()
@reports_errors
def plan(file: Path = typer.Argument(..., help="a .flow.md file", show_default=False),
         format: Format = FORMAT) -> None:
    """Print the waves a run would execute, with each node's kind."""
    loaded = load_workflow(file)
    for d in loaded.diagnostics:
        typer.echo(d.render(), err=True)
    if format is Format.json:
        typer.echo(json.dumps(loaded.plan.to_json(), indent=2))
    else:
        typer.echo(render_plan(loaded.plan))


def render_plan(plan: Plan) -> str:
    lines = [f"workflow {plan.workflow_id}: {plan.total_nodes} node(s) in {len(plan.waves)} wave(s)"]
    for wave in plan.waves:
        nodes = ", ".join(f"{i} ({plan.nodes[i].kind_name})" for i in wave.node_ids)
        lines.append(f"  wave {wave.number}: {nodes}")
    if plan.fallback_only:
        lines.append(f"  fallback only: {', '.join(sorted(plan.fallback_only))}")
    return "\n".join(lines)


@app.command()
@reports_errors
def functions(format: Format = FORMAT) -> None:
    """List the built-in expression functions with their signatures."""
    from flowscript.expressions import FUNCTIONS

    if format is Format.json:
        typer.echo(json.dumps([{"name": f.name, "category": f.category, "signature": f.signature,
                                "doc": f.doc} for f in FUNCTIONS.values()], indent=2))
        return
    by_category: dict[str, list] = {}
    for f in FUNCTIONS.values():
        by_category.setdefault(f.category, []).append(f)
    for category, fns in by_category.items():
        typer.echo(f"{category}:")
        for f in fns:
            summary = (f.doc or "").strip().splitlines()[0] if f.doc else ""
            typer.echo(f"  {f.signature:<44} {summary}")
    if not by_category:
        raise typer.Exit(EXIT_INVALID)

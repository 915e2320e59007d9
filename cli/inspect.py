"""Commands that read workflows without running them: validate, parse, plan, functions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowscript.cli.app import EXIT_INVALID, echo


def add_commands(commands: Any) -> None:
    validate_cmd = commands.add_parser("validate", help="check workflows: every error and warning, file:line:column",
                                       description="Check workflows; print every error and warning with "
                                                   "file:line:column. Exit 2 when invalid.")
    validate_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".flow.md files")
    validate_cmd.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    validate_cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate_cmd.set_defaults(command=validate)

    parse_cmd = commands.add_parser("parse", help="print a workflow's AST as JSON (--schema: its JSON Schema)",
                                    description="Print a workflow's AST as JSON (or, with --schema, the JSON "
                                                "Schema of every AST).")
    parse_cmd.add_argument("file", nargs="?", type=Path, metavar="FILE", help="a .flow.md file")
    parse_cmd.add_argument("--schema", action="store_true", help="print the AST's JSON Schema instead")
    parse_cmd.set_defaults(command=parse)

    plan_cmd = commands.add_parser("plan", help="print the waves a run would execute",
                                   description="Print the waves a run would execute, with each node's kind; "
                                               "or the workflow as a Mermaid flowchart.")
    plan_cmd.add_argument("file", type=Path, metavar="FILE", help="a .flow.md file")
    plan_cmd.add_argument("--format", choices=("text", "json", "mermaid"), default="text", help="output format")
    plan_cmd.add_argument("--write-graph", action="store_true",
                          help="keep the Mermaid diagram in the file's `## Graph` section")
    plan_cmd.set_defaults(command=plan)

    functions_cmd = commands.add_parser("functions", help="list the built-in expression functions",
                                        description="List the built-in expression functions with their signatures.")
    functions_cmd.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    functions_cmd.set_defaults(command=functions)


def validate(args: argparse.Namespace) -> int:
    from flowscript.compiler.diagnostics import Diagnostic, InvalidWorkflow
    from flowscript.compiler.loader import load_workflow

    results: dict[str, list[Diagnostic]] = {}
    invalid = False
    for file in args.files:
        try:
            loaded = load_workflow(file, strict=args.strict)
            results[str(file)] = loaded.diagnostics + _schedule_diagnostics(loaded.workflow)
            invalid = invalid or any(d.severity == "error" for d in results[str(file)])
        except InvalidWorkflow as e:
            results[str(file)] = e.diagnostics
            invalid = True
    if args.format == "json":
        echo(json.dumps({"valid": not invalid, "files": {
            f: [d.to_json() for d in ds] for f, ds in results.items()}}, indent=2))
    else:
        for shown, diagnostics in results.items():
            for d in diagnostics:
                echo(d.render(), err=True)
            errors = sum(d.severity == "error" for d in diagnostics)
            warnings = len(diagnostics) - errors
            status = "invalid" if errors else "valid"
            echo(f"{shown}: {status} ({errors} error(s), {warnings} warning(s))")
    return EXIT_INVALID if invalid else 0


def _schedule_diagnostics(workflow: Any) -> list[Any]:
    """A cron schedule checked by Prefect's own rules (only for workflows that have one: it
    imports Prefect)."""
    trigger = workflow.meta.trigger
    if trigger.type != "schedule" or "cron" not in trigger.config:
        return []
    from flowscript.deployments.schedules import check_schedules

    return check_schedules(workflow)


def parse(args: argparse.Namespace) -> int:
    from flowscript.compiler.ast import to_json, workflow_json_schema
    from flowscript.compiler.parser import parse_workflow_file

    if args.schema:
        echo(json.dumps(workflow_json_schema(), indent=2))
        return 0
    if args.file is None:
        echo("flowscript parse: give a .flow.md file, or --schema", err=True)
        return EXIT_INVALID
    echo(json.dumps(to_json(parse_workflow_file(args.file)), indent=2, ensure_ascii=False))
    return 0


def plan(args: argparse.Namespace) -> int:
    from flowscript.compiler.loader import load_workflow

    loaded = load_workflow(args.file)
    for d in loaded.diagnostics:
        echo(d.render(), err=True)
    if args.write_graph:
        from flowscript.compiler.graph import write_graph

        write_graph(args.file, loaded.plan)
        echo(f"{args.file}: the ## Graph section is up to date")
        return 0
    if args.format == "json":
        echo(json.dumps(loaded.plan.to_json(), indent=2))
    elif args.format == "mermaid":
        from flowscript.compiler.graph import mermaid

        echo(mermaid(loaded.plan))
    else:
        echo(render_plan(loaded.plan))
    return 0


def render_plan(plan: Any) -> str:
    lines = [f"workflow {plan.workflow_id}: {plan.total_nodes} node(s) in {len(plan.waves)} wave(s)"]
    for wave in plan.waves:
        nodes = ", ".join(f"{i} ({plan.nodes[i].kind_name})" for i in wave.node_ids)
        lines.append(f"  wave {wave.number}: {nodes}")
    if plan.fallback_only:
        lines.append(f"  fallback only: {', '.join(sorted(plan.fallback_only))}")
    return "\n".join(lines)


def functions(args: argparse.Namespace) -> int:
    from flowscript.expressions import FUNCTIONS

    if args.format == "json":
        echo(json.dumps([{"name": f.name, "category": f.category, "signature": f.signature,
                          "doc": f.doc} for f in FUNCTIONS.values()], indent=2))
        return 0
    by_category: dict[str, list[Any]] = {}
    for f in FUNCTIONS.values():
        by_category.setdefault(f.category, []).append(f)
    for category, fns in by_category.items():
        echo(f"{category}:")
        for f in fns:
            summary = (f.doc or "").strip().splitlines()[0] if f.doc else ""
            echo(f"  {f.signature:<44} {summary}")
    return 0 if by_category else EXIT_INVALID

"""What the Prefect UI's flow-run graph is drawn from: each task run's recorded inputs. Shared
by the graph tests of the thread runner (tests/prefect) and of Dask (tests/scaleout)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flowscript.compiler.loader import load_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


async def graph_of(client: Any, flow_run_id: str, expected: set[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Task run name (its execution's key) -> the names of the task runs it records as upstream,
    and -> the names of its parents (the control node it runs under). The server records task
    runs from their events, a moment after they ran: this waits until `expected` are there."""
    from prefect_support import recorded_task_runs

    runs = await recorded_task_runs(client, flow_run_id, names=expected)
    names = {run.id: run.name for run in runs}
    upstream: dict[str, set[str]] = {}
    parents: dict[str, set[str]] = {}
    for run in runs:
        upstream[run.name] = {names[i.id] for key, inputs in run.task_inputs.items() if key != "__parents__"
                              for i in inputs if getattr(i, "id", None) in names}
        parents[run.name] = {names[i.id] for i in run.task_inputs.get("__parents__", []) if i.id in names}
    return upstream, parents


def copy_examples(folder: Path) -> Path:
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", ".flowscript-state", ".state"))
    return folder


async def check_graph(client: Any, folder: Path, runner: Any) -> None:
    """order-report's task runs record exactly their node's dependencies; enrich-foreach's
    iterations hang under their foreach, each iteration's nodes in a chain."""
    from prefect_support import run_on_prefect

    path = folder / "order-report.flow.md"
    outcome = await run_on_prefect(path, runner=runner, env={})
    assert outcome.status == "completed", outcome.failure
    plan = load_workflow(path).plan
    upstream, _ = await graph_of(client, outcome.flow_run_id, set(plan.dependencies))
    assert upstream == {node: set(plan.dependencies[node]) for node in plan.dependencies}
    assert upstream == {"orders": set(), "paid": {"orders"}, "totals": {"paid"}, "save-totals": {"totals"},
                        "report": {"totals"}, "save-report": {"report"}}


async def check_nesting(client: Any, folder: Path, runner: Any, base_url: str) -> None:
    from prefect_support import run_on_prefect

    path = folder / "enrich-foreach.flow.md"
    outcome = await run_on_prefect(path, runner=runner, env={}, config={"base_url": base_url})
    assert outcome.status == "completed", outcome.failure
    top = {node.id for node in load_workflow(path).workflow.nodes}
    executions = {key for key, result in outcome.state.node_results.items()
                  if result.status != "skipped" and ("[" in key or key in top)}
    upstream, parents = await graph_of(client, outcome.flow_run_id, executions)
    assert upstream["enrich"] == {"orders"} and upstream["save-enriched"] == {"enrich"}
    rates = [name for name in upstream if name.startswith("enrich[") and name.endswith(".rate")]
    assert rates and all(parents[name] == {"enrich"} for name in rates)
    for name in rates:  # each iteration: rate -> priced
        assert upstream[name.removesuffix(".rate") + ".priced"] == {name}

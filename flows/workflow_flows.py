"""The Prefect entry point: a workflow file becomes the Prefect flow that runs it.

`flow_for("flows/examples/order-report.flow.md")` is what deployments and `serve` point
at; `flowscript run FILE` calls the same flow in this process. Everything it does lives
in `prefect_backend/` (the flow) and `runtime/` (the engine); this module stays thin.
"""

from __future__ import annotations

import os

from prefect import Flow

from flowscript.compiler.loader import load_workflow
from flowscript.prefect_backend.flow_builder import build_flow


def flow_for(path: str | os.PathLike[str]) -> Flow:
    """The flow of one .flow.md file (raises InvalidWorkflow, with every diagnostic, when it is not valid)."""
    return build_flow(load_workflow(path).plan)

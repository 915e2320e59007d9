"""FlowScript: .flow.md workflows run on Prefect, or locally without a server.

The public API (everything else may move between versions):

    from flowscript import run_workflow
    result = run_workflow("flows/order-report.flow.md", config={"min_total": 50})
    assert result.status == "completed" and result.outputs["paid"]

Names are imported on first use, so `import flowscript` costs nothing a run does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
__all__ = [
    "FlowScriptError",
    "InvalidWorkflow",
    "NodeOutcome",
    "RunResult",
    "__version__",
    "arun_workflow",
    "run_workflow",
]

_WHERE = {
    "run_workflow": "flowscript.api",
    "arun_workflow": "flowscript.api",
    "RunResult": "flowscript.api",
    "NodeOutcome": "flowscript.api",
    "FlowScriptError": "flowscript.errors",
    "InvalidWorkflow": "flowscript.compiler.diagnostics",
}

if TYPE_CHECKING:
    from flowscript.api import NodeOutcome, RunResult, arun_workflow, run_workflow
    from flowscript.compiler.diagnostics import InvalidWorkflow
    from flowscript.errors import FlowScriptError


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'flowscript' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value

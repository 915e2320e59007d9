"""The markdown execution log as an artifact of the flow run (secret values redacted)."""

from __future__ import annotations

import re

from prefect.artifacts import acreate_markdown_artifact

from flowscript.runtime.markdown_log import format_log
from flowscript.runtime.secrets import Redactor
from flowscript.runtime.state import RunState


def artifact_key(workflow_id: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", workflow_id.lower()).strip("-") or "workflow"
    return f"flowscript-log-{slug}"


async def publish_log(state: RunState, redactor: Redactor) -> None:
    await acreate_markdown_artifact(markdown=format_log(state, redactor), key=artifact_key(state.workflow_id),
                                    description=f"FlowScript execution log of run {state.run_id}")

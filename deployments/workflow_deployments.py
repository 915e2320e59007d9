"""The command line's former entry points, kept while cli/deploying.py still calls them:
`deploy(folder, work_pool=...)` -> ids by workflow name, `serve(folder, limit=...)`. New code
calls `flowscript.deployments.deploy/serve/prefect_yaml` with a DeployOptions."""

from __future__ import annotations

import os
from uuid import UUID

from flowscript.deployments.deploying import WorkflowDeployment, workflow_deployments
from flowscript.deployments.deploying import deploy as deploy_with
from flowscript.deployments.deploying import serve as serve_with
from flowscript.deployments.options import DeployOptions

__all__ = ["WorkflowDeployment", "deploy", "serve", "workflow_deployments"]


async def deploy(folder: str | os.PathLike[str], *, work_pool: str | None = None) -> dict[str, UUID]:
    return {item.name: item.id for item in await deploy_with(folder, DeployOptions(pool=work_pool))
            if item.id is not None}


async def serve(folder: str | os.PathLike[str], *, limit: int | None = None) -> None:
    await serve_with(folder, DeployOptions(), limit)

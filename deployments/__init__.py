"""Workflows as Prefect deployments: what `flowscript deploy` and `flowscript serve` call
(docs/deploying.md).

    await deploy(folder, DeployOptions(pool="fleet", source=GitSource(url, branch, subfolder), ...))
    await serve(folder, DeployOptions(...), limit)
    prefect_yaml(folder, DeployOptions(pool="fleet")) -> the text of a prefect.yaml
    check_schedules(workflow) -> [Diagnostic]   (VALID_INVALID_SCHEDULE, Prefect's own cron check)
"""

from flowscript.deployments.deploying import (
    DeployError,
    WorkflowDeployment,
    deploy,
    event_name,
    prefect_yaml,
    serve,
    workflow_deployments,
)
from flowscript.deployments.options import DeployOptions, GitSource, job_variables_from, params_from
from flowscript.deployments.schedules import check_schedules
from flowscript.deployments.steps import MAX_INLINE_BYTES, DeployTooLarge, run_folder

__all__ = ["MAX_INLINE_BYTES", "DeployError", "DeployOptions", "DeployTooLarge", "GitSource", "WorkflowDeployment",
           "check_schedules", "deploy", "event_name", "job_variables_from", "params_from", "prefect_yaml",
           "run_folder", "serve", "workflow_deployments"]

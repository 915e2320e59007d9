"""`flowscript deploy --prefect-yaml`: the prefect.yaml it writes makes `prefect --no-prompt
deploy --all` create the deployments `deploy()` creates, field for field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workers import create_pool, deploy_to

from flowscript.deployments import DeployOptions, GitSource, prefect_yaml
from flowscript.prefect_backend.task_runners import TaskRunnerChoice

NIGHTLY = """---
name: yaml-nightly
version: 2.0.0
description: Every night.
trigger: {type: schedule, config: {cron: "0 2 * * *", timezone: Europe/Paris}}
config:
  greeting: {type: string, default: hello}
  limit: {type: number, default: 3}
---

# Nightly

<workflow>
  <source id="rows" type="file" path="./data/rows.json"/>
  <transform id="note" type="template" input="rows"><template>{{$config.greeting}} {{length(input)}}</template></transform>
</workflow>
"""
HOOK = """---
name: yaml-hook
version: 1.0.0
trigger: webhook
---

# Hook

<workflow>
  <transform id="note" type="template"><template>{{input.x}}</template></transform>
</workflow>
"""
EVERY = """---
name: yaml-every
version: 1.0.0
trigger: {type: schedule, config: {interval: PT2H}}
---

# Every two hours

<workflow>
  <transform id="note" type="template"><template>x</template></transform>
</workflow>
"""


async def _fields(client, name: str) -> dict:
    deployment = await client.read_deployment_by_name(f"{name}/{name}")
    automations = await client.read_resource_related_automations(f"prefect.deployment.{deployment.id}")
    return {
        "entrypoint": deployment.entrypoint,
        "path": deployment.path,
        "description": deployment.description,
        "version": deployment.version,
        "parameters": deployment.parameters,
        "parameter_openapi_schema": deployment.parameter_openapi_schema,
        "enforce_parameter_schema": deployment.enforce_parameter_schema,
        "job_variables": deployment.job_variables,
        "work_pool_name": deployment.work_pool_name,
        "tags": sorted(deployment.tags),
        "concurrency_limit": deployment.global_concurrency_limit.limit if deployment.global_concurrency_limit else None,
        "pull_steps": deployment.pull_steps,
        "schedules": [(s.schedule.model_dump(mode="json", exclude={"anchor_date"}), s.active)
                      for s in deployment.schedules],
        "triggers": sorted((sorted(a.trigger.expect), a.trigger.posture, [x.model_dump(mode="json", exclude={"deployment_id"})
                                                                          for x in a.actions])
                           for a in automations),
    }


async def _compare(server, api, folder: Path, options: DeployOptions) -> None:
    names = [item.name for item in await deploy_to(server.api_url, folder, options)]
    by_deploy = {name: await _fields(api, name) for name in names}
    for name in names:
        await api.delete_deployment((await api.read_deployment_by_name(f"{name}/{name}")).id)
    (folder / "prefect.yaml").write_text(prefect_yaml(folder, options))
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([str(Path(sys.executable).parent / "prefect"), "--no-prompt", "deploy", "--all"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    by_yaml = {name: await _fields(api, name) for name in names}
    for name in names:
        assert by_yaml[name] == by_deploy[name], name


async def test_prefect_deploy_of_the_written_yaml_creates_the_same_deployments(server, api, tmp_path):
    await create_pool(api, "yaml-pool")
    folder = tmp_path / "flows"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "rows.json").write_text("[1, 2]")
    (folder / "nightly.flow.md").write_text(NIGHTLY)
    (folder / "hook.flow.md").write_text(HOOK)
    (folder / "every.flow.md").write_text(EVERY)
    options = DeployOptions(pool="yaml-pool", job_variables={"env": {"TZ": "UTC"}, "stream_output": False},
                            tags=["team-a"], concurrency_limit=2, params={"greeting": "hi", "limit": "5"},
                            result_storage="local-file-system/results",
                            task_runner=TaskRunnerChoice.of("dask", "tcp://scheduler:8786"))
    await _compare(server, api, folder, options)
    written = (folder / "prefect.yaml").read_text()
    assert str(tmp_path) not in written and "{{ pack.archive }}" in written


async def test_the_same_with_a_git_source(server, api, tmp_path):
    await create_pool(api, "yaml-git-pool")
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "hook.flow.md").write_text(HOOK.replace("yaml-hook", "yaml-git-hook"))
    options = DeployOptions(pool="yaml-git-pool", source=GitSource("https://example.com/acme/flows.git", "main", "flows"))
    await _compare(server, api, folder, options)

"""Deployments that any worker runs: deployed from folder A, A moved away, and a worker on
"another machine" (an empty folder, a HOME of its own) runs them; with the files inside the
deployment, or pulled from a git repository (docs/deploying.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from workers import create_pool, deploy_to, logs_of, wait_for, worker

from flowscript.deployments import DeployOptions, GitSource

REPORT = """---
name: {name}
version: 1.0.0
config:
  label: {{type: string, default: total}}
---

# {name}

<workflow>
  <source id="orders" type="file" path="./data/orders.json"/>
  <transform id="sum" type="template" input="orders">
    <template>{{{{$config.label}}}}: {{{{sum_by(input, 'amount')}}}}</template>
  </transform>
  <sink id="save" type="file" input="sum" path="./out/total.txt"/>
</workflow>
"""


def _folder(root: Path, name: str) -> Path:
    root.mkdir(parents=True)
    (root / f"{name}.flow.md").write_text(REPORT.format(name=name))
    (root / "data").mkdir()
    (root / "data" / "orders.json").write_text(json.dumps([{"amount": 2}, {"amount": 40}]))
    return root


async def test_a_worker_elsewhere_runs_a_deployment_that_carries_its_files(server, api, tmp_path):
    await create_pool(api, "elsewhere")
    a = _folder(tmp_path / "A", "carried")
    [deployed] = await deploy_to(server.api_url, a, DeployOptions(pool="elsewhere", params={"label": "sum"}))
    a.rename(tmp_path / "A-moved")  # the deploying machine's folder is gone
    deployment = await api.read_deployment(deployed.id)
    assert "FLOWSCRIPT_WORKFLOWS_DIR" not in json.dumps(deployment.job_variables)
    assert str(tmp_path) not in json.dumps(deployment.model_dump(mode="json"))
    [step] = deployment.pull_steps
    assert set(step) == {"flowscript.deployments.steps.unpack_workflow"}
    with worker(server.api_url, "elsewhere", tmp_path / "B") as b:
        flow_run = await api.create_flow_run_from_deployment(deployed.id)
        flow_run = await wait_for(api, flow_run.id)
        assert flow_run.state.is_completed(), (flow_run.state, await logs_of(api, flow_run.id), b.log.read_text())
    run = b.runs("carried") / str(flow_run.id)
    assert (run / "out" / "total.txt").read_text() == "sum: 42"
    assert (run / ".flowscript-state" / "carried" / f"{flow_run.id}.json").exists()
    assert list(b.folder.iterdir()) == []


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"})


async def test_a_worker_elsewhere_runs_a_deployment_pulled_from_git(server, api, tmp_path):
    await create_pool(api, "from-git")
    repo = tmp_path / "repo"
    _folder(repo / "flows", "pulled")
    _git("init", "-q", "-b", "release", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-q", "-m", "workflows", cwd=repo)
    checkout = tmp_path / "checkout"
    subprocess.run(["cp", "-r", str(repo / "flows"), str(checkout)], check=True)
    source = GitSource(f"file://{repo}", branch="release", subfolder="flows")
    [deployed] = await deploy_to(server.api_url, checkout, DeployOptions(pool="from-git", source=source))
    checkout.rename(tmp_path / "checkout-moved")
    deployment = await api.read_deployment(deployed.id)
    clone, chdir, copy = deployment.pull_steps
    assert clone == {"prefect.deployments.steps.git_clone": {"id": "clone", "repository": f"file://{repo}",
                                                             "branch": "release"}}
    assert chdir == {"prefect.deployments.steps.set_working_directory": {"directory": "{{ clone.directory }}/flows"}}
    with worker(server.api_url, "from-git", tmp_path / "B") as b:
        flow_run = await api.create_flow_run_from_deployment(deployed.id, parameters={"label": "git"})
        flow_run = await wait_for(api, flow_run.id)
        assert flow_run.state.is_completed(), (flow_run.state, await logs_of(api, flow_run.id), b.log.read_text())
    assert (b.runs("pulled") / str(flow_run.id) / "out" / "total.txt").read_text() == "git: 42"

"""Deployments that any worker runs: deployed from folder A, A moved away, and a worker on
"another machine" (an empty folder, a HOME of its own) runs them; with the files inside the
deployment, or pulled from a git repository (docs/deploying.md)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from workers import create_pool, deploy_to, logs_of, wait_for, wait_for_input, worker

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
    assert copy == {"flowscript.deployments.steps.copy_workflow": {"workflow": "pulled", "path": "pulled.flow.md"}}
    with worker(server.api_url, "from-git", tmp_path / "B") as b:
        flow_run = await api.create_flow_run_from_deployment(deployed.id, parameters={"label": "git"})
        flow_run = await wait_for(api, flow_run.id)
        assert flow_run.state.is_completed(), (flow_run.state, await logs_of(api, flow_run.id), b.log.read_text())
    assert (b.runs("pulled") / str(flow_run.id) / "out" / "total.txt").read_text() == "git: 42"


FETCHES = """---
name: {name}
version: 1.0.0
config:
  base: {{type: string, required: true}}
---

# {name}

<workflow>
  <source id="first" type="http" url="{{{{$config.base}}}}/first"/>
  <source id="second" type="http" input="first" url="{{{{$config.base}}}}/second"/>
  <sink id="save" type="file" input="second" path="./out/second.json"/>
</workflow>
"""


async def test_a_failed_run_retried_on_another_worker_reuses_the_stored_results(server, api, tmp_path):
    from loopback import CountingServer
    from prefect.filesystems import LocalFileSystem
    from prefect.states import Scheduled

    await create_pool(api, "retried")
    await LocalFileSystem(basepath=str(tmp_path / "shared")).asave("shared-results", overwrite=True, client=api)
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / "fetches.flow.md").write_text(FETCHES.format(name="fetches"))
    with CountingServer({"/first": {"n": 1}, "/second": {"n": 2}}, fail_first={"/second": [400]}) as http:
        options = DeployOptions(pool="retried", params={"base": http.url},
                                result_storage="local-file-system/shared-results")
        [deployed] = await deploy_to(server.api_url, folder, options)
        assert (await api.read_deployment(deployed.id)).job_variables == {
            "env": {"FLOWSCRIPT_RESULT_STORAGE": "local-file-system/shared-results"}}
        with worker(server.api_url, "retried", tmp_path / "one") as one:
            flow_run = await api.create_flow_run_from_deployment(deployed.id)
            failed = await wait_for(api, flow_run.id)
        assert failed.state.is_failed(), (failed.state, await logs_of(api, flow_run.id), one.log.read_text())
        assert (http.committed["/first"], http.received["/second"]) == (1, 1)
        await api.set_flow_run_state(flow_run.id, Scheduled(), force=True)  # retried: any worker of the pool
        with worker(server.api_url, "retried", tmp_path / "two") as two:
            done = await wait_for(api, flow_run.id)
        assert done.state.is_completed(), (done.state, await logs_of(api, flow_run.id), two.log.read_text())
        assert (http.committed["/first"], http.committed["/second"]) == (1, 1)  # first: its stored result
    assert json.loads((two.runs("fetches") / str(flow_run.id) / "out" / "second.json").read_text()) == {"n": 2}
    assert not (two.runs("fetches") / str(flow_run.id) / ".flowscript-state" / "fetches" / "x").exists()
    assert any((tmp_path / "shared").iterdir())


APPROVAL = """---
name: {name}
version: 1.0.0
config:
  base: {{type: string, required: true}}
  label: {{type: string, required: true}}
  wait_ms: {{type: number, default: 600000}}
---

# {name}

<workflow>
  <source id="before" type="http" url="{{{{$config.base}}}}/before/{{{{$config.label}}}}"/>
  <checkpoint id="review" input="before" prompt="Go on with {{{{$config.label}}}}?" timeout="{{{{$config.wait_ms}}}}"
              default="approve" suspend="true"/>
  <sink id="after" type="http" input="review" method="POST" url="{{{{$config.base}}}}/after/{{{{$config.label}}}}"/>
  <transform id="note" type="template" input="review">
    <template>{{{{input.action}}}} timedOut={{{{input.timedOut}}}}</template>
  </transform>
  <sink id="save" type="file" input="note" path="./out/decision.txt"/>
</workflow>
"""


FORM = "suspended-checkpoint-review-schema"  # the approval form's schema, stored as a run input


async def test_a_suspended_checkpoint_frees_the_worker_and_each_side_effect_happens_once(server, api, tmp_path):
    from loopback import CountingServer
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    await create_pool(api, "approvals")
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / "gate.flow.md").write_text(APPROVAL.format(name="gate"))
    labels = ("approve", "reject", "timeout")
    answers = {f"/{step}/{label}": {"ok": label} for step in ("before", "after") for label in labels}
    with CountingServer(answers) as http, worker(server.api_url, "approvals", tmp_path / "B") as b:
        [deployed] = await deploy_to(server.api_url, folder, DeployOptions(pool="approvals", params={"base": http.url}))
        runs = {label: (await api.create_flow_run_from_deployment(
            deployed.id, parameters={"label": label, **({"wait_ms": 10_000} if label == "timeout" else {})})).id
            for label in labels}
        for label, flow_run_id in runs.items():
            suspended = await wait_for(api, flow_run_id, lambda s: s.is_paused())
            assert suspended.state.name == "Suspended", label
        for _ in range(40):  # the flow runs' processes have exited: the worker runs nothing
            if not b.children():
                break
            await asyncio.sleep(0.25)
        assert b.children() == []
        assert all(http.committed[f"/before/{label}"] == 1 for label in labels)
        for label in ("approve", "reject"):
            await wait_for_input(api, runs[label], FORM)
            await api.resume_flow_run(runs[label], run_input={"action": label, "comment": f"{label} via API"})
        finals = {label: await wait_for(api, flow_run_id, timeout=120) for label, flow_run_id in runs.items()}
        assert finals["approve"].state.is_completed(), await logs_of(api, runs["approve"])
        assert finals["reject"].state.is_cancelled(), await logs_of(api, runs["reject"])
        assert finals["timeout"].state.is_completed(), await logs_of(api, runs["timeout"])
        assert dict(http.committed) == {**{f"/before/{label}": 1 for label in labels},
                                        "/after/approve": 1, "/after/timeout": 1}
    decision = {label: b.runs("gate") / str(runs[label]) / "out" / "decision.txt" for label in labels}
    assert decision["approve"].read_text() == "approve timedOut=false"
    assert decision["timeout"].read_text() == "approve timedOut=true"
    assert not decision["reject"].exists()
    assert "checkpoint review: approve by Prefect UI: approve via API" in "\n".join(await logs_of(api, runs["approve"]))
    left = [a.name for a in await api.read_automations() if a.name.startswith("flowscript-timeout-")]
    assert left == []  # each rerun deletes its timeout's automation
    tasks = await api.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[runs["approve"]])))
    assert sorted(t.name for t in tasks if t.state.is_completed() and t.name == "before") == ["before"]
    assert sorted((t.name, t.state.name) for t in tasks if t.name == "review") == [("review", "Completed"),
                                                                                  ("review", "Suspended")]


async def test_serve_carries_a_suspended_run_on_after_its_approval(server, api, tmp_path):
    """`flowscript serve` is the runner of its deployments: a run suspended at a checkpoint exits
    its process, and the approval, given afterwards, reruns it in the serving process's folder."""
    import os
    import signal
    import sys

    from loopback import CountingServer
    from prefect_server import stop_group

    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "served-gate.flow.md").write_text(APPROVAL.format(name="served-gate"))
    answers = {f"/{step}/approve": {"ok": True} for step in ("before", "after")}
    with CountingServer(answers) as http, open(tmp_path / "serve.log", "w") as log:
        env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        process = subprocess.Popen([str(Path(sys.executable).parent / "flowscript"), "serve", ".", "--param",
                                    f"base={http.url}"], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            deployment = None
            for _ in range(120):
                try:
                    deployment = await api.read_deployment_by_name("served-gate/served-gate")
                    break
                except Exception:  # not registered yet
                    await asyncio.sleep(0.5)
            assert deployment is not None, (tmp_path / "serve.log").read_text()
            run = await api.create_flow_run_from_deployment(deployment.id, parameters={"label": "approve"})
            suspended = await wait_for(api, run.id, lambda s: s.is_paused())
            assert suspended.state.name == "Suspended"
            assert dict(http.committed) == {"/before/approve": 1}
            await wait_for_input(api, run.id, FORM)
            await api.resume_flow_run(run.id, run_input={"action": "approve", "comment": "served"})
            final = await wait_for(api, run.id, timeout=120)
            assert final.state.is_completed(), await logs_of(api, run.id)
        finally:
            stop_group(process, signal.SIGINT, grace=30)
        assert dict(http.committed) == {"/before/approve": 1, "/after/approve": 1}
    assert (folder / "out" / "decision.txt").read_text() == "approve timedOut=false"


WEBHOOK = """---
name: {name}
version: 1.0.0
trigger: webhook
---

# {name}

<workflow>
  <transform id="note" type="template">
    <template>{{{{input.order}}}} x{{{{input.count}}}}</template>
  </transform>
  <sink id="save" type="file" input="note" path="./out/event.txt"/>
</workflow>
"""


async def test_an_event_named_after_a_webhook_workflow_starts_a_run_with_its_payload(server, api, tmp_path):
    import uuid
    from datetime import UTC, datetime

    import httpx
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    await create_pool(api, "events")
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / "hook.flow.md").write_text(WEBHOOK.format(name="on-order"))
    [deployed] = await deploy_to(server.api_url, folder, DeployOptions(pool="events"))
    with worker(server.api_url, "events", tmp_path / "B") as b:
        await asyncio.sleep(1)  # the server loads the deployment's automation
        event = {"id": str(uuid.uuid4()), "occurred": datetime.now(UTC).isoformat(), "event": "flowscript.workflow.on-order",
                 "resource": {"prefect.resource.id": "flowscript.workflow.on-order"},
                 "payload": {"order": "A-7", "count": 3}}
        posted = httpx.post(f"{server.api_url}/events", json=[event], timeout=10)
        assert posted.status_code == 204, posted.text
        for _ in range(120):
            runs = await api.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployed.id])))
            if runs:
                break
            await asyncio.sleep(0.25)
        [flow_run] = runs
        assert flow_run.parameters["input"] == {"order": "A-7", "count": 3}
        done = await wait_for(api, flow_run.id)
        assert done.state.is_completed(), (done.state, await logs_of(api, flow_run.id), b.log.read_text())
    assert (b.runs("on-order") / str(flow_run.id) / "out" / "event.txt").read_text() == "A-7 x3"

"""Load (docs/reliability.md): many runs at once in one process, sharing one state folder
and one HTTP server: 20 local runs of 4 workflows with 5 configs each, and 5 through
Prefect. Every run completes, and no run's state file, journal, output file or request
touches another's."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from loopback import CountingServer

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.run_config import resolve_config
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.persistence import load_state, state_path

WORKFLOWS = 4
CONFIGS = 5
ITEMS = 4


def _flow(n: int) -> str:
    """Workflow `load-n`: 3 waves; its own node ids (suffix n), requests under /w{n}/{tag}/."""
    return f"""---
name: load-{n}
version: 1.0.0
config:
  base_url: {{type: string, default: "http://127.0.0.1:9"}}
  tag: {{type: string, default: "none"}}
---

# Load {n}

<workflow>
  <source id="list{n}" type="http" url="{{{{$config.base_url}}}}/w{n}/{{{{$config.tag}}}}/list"/>
  <source id="meta{n}" type="http" url="{{{{$config.base_url}}}}/w{n}/{{{{$config.tag}}}}/meta"/>
  <foreach id="each{n}" collection="list{n}.output.items" concurrency="2">
    <source id="get{n}" type="http" url="{{{{$config.base_url}}}}/w{n}/{{{{$config.tag}}}}/item/{{{{item}}}}"/>
    <transform id="mark{n}" type="map" expression="{{tag: $config.tag, item: item, got: get{n}.output.ok}}"/>
  </foreach>
  <transform id="total{n}" type="template" input="list{n}"><template>{{{{$config.tag}}}}:{{{{len(list{n}.output.items)}}}}:{{{{meta{n}.output.n}}}}</template></transform>
  <sink id="save{n}" type="file" input="each{n}" path="./out/{{{{$config.tag}}}}.json"/>
  <sink id="post{n}" type="http" method="POST" url="{{{{$config.base_url}}}}/w{n}/{{{{$config.tag}}}}/post" input="total{n}"/>
</workflow>
"""


def _answers() -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for n in range(WORKFLOWS):
        for c in range(CONFIGS):
            base = f"/w{n}/t{n}-{c}"
            answers[f"{base}/list"] = {"items": list(range(ITEMS))}
            answers[f"{base}/meta"] = {"n": n * 10 + c}
            answers[f"{base}/post"] = {"ok": True}
            answers.update({f"{base}/item/{i}": {"ok": f"t{n}-{c}/{i}"} for i in range(ITEMS)})
    return answers


def _expected_keys(n: int) -> set[str]:
    keys = {f"list{n}", f"meta{n}", f"each{n}", f"get{n}", f"mark{n}", f"total{n}", f"save{n}", f"post{n}"}
    keys |= {f"each{n}[{i}].{node}{n}" for i in range(ITEMS) for node in ("get", "mark")}
    return keys


def _check_isolation(folder: Path, state_dir: Path, runs: list[tuple[int, str, str]], server: CountingServer,
                     backend: str) -> None:
    """Each state file holds only its own run: id, workflow, config, node results, outputs."""
    files = sorted(state_dir.rglob("*"))
    assert [p for p in files if p.is_file() and not p.name.endswith(".json")] == [], files  # no journal, no temp
    assert len([p for p in files if p.is_file()]) == len(runs)
    tags = {tag for _, tag, _ in runs}
    for n, tag, run_id in runs:
        path = state_path(state_dir, f"load-{n}", run_id)
        state = load_state(path)
        assert (state.status, state.run_id, state.workflow_id, state.backend) == ("completed", run_id, f"load-{n}",
                                                                                    backend)
        assert state.config == {"base_url": server.url, "tag": tag}
        assert set(state.node_results) == _expected_keys(n)
        assert all(r.status == "success" for r in state.node_results.values())
        assert state.node_results[f"total{n}"].output == f"{tag}:{ITEMS}:{n * 10 + int(tag.split('-')[1])}"
        assert state.node_results[f"each{n}"].output == [{"tag": tag, "item": i, "got": f"{tag}/{i}"}
                                                         for i in range(ITEMS)]
        text = path.read_text()
        assert not [other for other in tags - {tag} if f'"{other}' in text or f"/{other}/" in text], path
        saved = json.loads((folder / "out" / f"{tag}.json").read_text())
        assert saved == state.node_results[f"each{n}"].output
    for n, tag, _ in runs:  # every request of every run reached the server exactly once
        base = f"/w{n}/{tag}"
        assert server.committed[f"{base}/list"] == server.committed[f"{base}/meta"] == 1
        assert server.committed[f"{base}/post"] == 1
        assert all(server.committed[f"{base}/item/{i}"] == 1 for i in range(ITEMS))
        assert server.bodies[f"{base}/post"] == [state_text(n, tag)]
    for n in {n for n, _, _ in runs}:  # the workflow file still loads, with the log of one of its runs
        flow = load_workflow(folder / f"load-{n}.flow.md")
        log = (folder / f"load-{n}.flow.md").read_text()
        assert log.count("## Execution Log") == 1
        assert any(f"**Run ID:** `{run_id}`" in log for m, _, run_id in runs if m == n)
        assert flow.workflow.meta.name == f"load-{n}"


def state_text(n: int, tag: str) -> str:
    return f"{tag}:{ITEMS}:{n * 10 + int(tag.split('-')[1])}"


def _write_flows(folder: Path) -> None:
    for n in range(WORKFLOWS):
        (folder / f"load-{n}.flow.md").write_text(_flow(n), encoding="utf-8")


def _overlapped(states: list[Any]) -> bool:
    """At one moment every run was between its first node's start and its last node's end."""
    starts = [min(r.started_at for r in s.node_results.values()) for s in states]
    ends = [max(r.completed_at for r in s.node_results.values()) for s in states]
    return max(starts) < min(ends)


async def test_twenty_local_runs_at_once_share_a_state_folder_without_touching_each_other(tmp_path, monkeypatch):
    _write_flows(tmp_path)
    state_dir = tmp_path / ".state"
    tls_contexts = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: tls_contexts.append(1) or real(*a, **k))
    with CountingServer(_answers(), delays={f"/w{n}/t{n}-{c}/meta": 1.0 for n in range(WORKFLOWS)
                                            for c in range(CONFIGS)}) as server:
        engines, runs = [], []
        for n in range(WORKFLOWS):
            loaded = load_workflow(tmp_path / f"load-{n}.flow.md")
            for c in range(CONFIGS):
                tag = f"t{n}-{c}"
                engine = Engine(loaded.plan, LocalBackend(interactive=False),
                                RunOptions(workdir=tmp_path, state_dir=state_dir, max_concurrency=2 + c))
                state = engine.new_state(resolve_config(loaded.workflow.meta, {"base_url": server.url, "tag": tag}),
                                         run_id=f"run-{tag}")
                engines.append((engine, state))
                runs.append((n, tag, state.run_id))
        t0 = time.perf_counter()
        await asyncio.gather(*(engine.run(state, {}) for engine, state in engines))
        seconds = time.perf_counter() - t0
        assert _overlapped([state for _, state in engines])
        assert seconds < 30
        _check_isolation(tmp_path, state_dir, runs, server, "local")
    # one TLS context for all the runs: each used to load the CA bundle in the event loop
    # (0.1-0.3 s apiece, 5 s of a 7 s load test)
    assert len(tls_contexts) <= 1


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_five_prefect_runs_at_once(tmp_path, prefect_api):
    from prefect.client.orchestration import get_client
    from prefect_support import run_on_prefect

    _write_flows(tmp_path)
    state_dir = tmp_path / ".state"
    chosen = [(n, f"t{n}-{n % CONFIGS}") for n in range(WORKFLOWS)] + [(0, "t0-4")]  # 5 runs, workflow 0 twice
    with CountingServer(_answers()) as server:
        metas = [f"/w{n}/{tag}/meta" for n, tag in chosen]
        for path in metas:  # each run's first request waits until every run has sent its own
            server.hold(path)
        running = asyncio.gather(*(
            run_on_prefect(tmp_path / f"load-{n}.flow.md", config={"base_url": server.url, "tag": tag},
                           state_dir=state_dir)
            for n, tag in chosen))
        await asyncio.to_thread(lambda: [server.wait_for(path, timeout=25) for path in metas])
        server.release(drop=False)
        outcomes = await running
        assert [o.status for o in outcomes] == ["completed"] * len(chosen), [o.failure for o in outcomes]
        assert _overlapped([o.state for o in outcomes])
        runs = [(n, tag, o.state.run_id) for (n, tag), o in zip(chosen, outcomes, strict=True)]
        _check_isolation(tmp_path, state_dir, runs, server, "prefect")
    async with get_client() as client:
        for _, _, run_id in runs:
            flow_run = await client.read_flow_run(run_id)
            assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state

"""Secrets everywhere (docs/language.md#secrets): one workflow uses two canary secrets in every
place a secret can go (headers, URL path and query, a template output, a file path) and
makes them show up in error messages (a refused connection, a timeout, a missing file, an
expression error, an error answer whose body echoes the secret). Then everything the run
wrote is searched: the state file and journal, the .flow.md log, the command's stdout and
stderr, and on Prefect the result storage, the flow run's parameters and state, the task
runs' states, the logs and the artifacts. Neither canary, nor a URL-encoded or
JSON-escaped form of it, may appear anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest
from cli_support import invoke
from flaky_server import FlakyServer, answer, slow

TOKEN = "canary-tok-7f3a9c"
PASSWORD = 'p@ss w/rd"\\+%1'  # ASCII (it goes in a header), but URLs and JSON escape it


def forms(secret: str) -> set[str]:
    """The secret as written, and as it looks once URL-encoded, escaped inside JSON or a Python
    repr, or written as a path (separators normalised)."""
    return {secret, quote(secret, safe=""), quote(secret), quote(secret, safe="/:@!$&'()*+,;="),
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1],
            secret.replace("\\", "/")} - {""}


def derived() -> dict[str, str]:
    """What the workflow's expressions make of the canaries (docs/language.md#secrets: a value
    computed from a secret is secret): none of it may be written either."""
    token = f"token={TOKEN}"
    basic = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    return {"upper": token.upper(), "lower": TOKEN.upper().lower() + "!", "slice": TOKEN[2:14],
            "basic": basic, "concat": TOKEN + "+" + TOKEN[::-1], "reversed": TOKEN[::-1], "upper token": TOKEN.upper()}


def leaks(texts: dict[str, str]) -> list[str]:
    found = []
    for where, text in texts.items():
        for secret in (TOKEN, PASSWORD):
            found += [f"{where}: {form!r}" for form in forms(secret) if form in text]
        for name, value in derived().items():
            found += [f"{where}: {name} {form!r}" for form in forms(value) if form in text]
    return found


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workflow(folder: Path, server: FlakyServer, name: str) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.flow.md"
    path.write_text(f"""---
name: {name}
version: 1.0.0
secrets: [TOKEN, PASSWORD]
config:
  user: ada
---

# Secrets everywhere

<workflow>
  <source id="api" type="http" url="{server.url}/data/{{{{$secrets.TOKEN}}}}?key={{{{$secrets.TOKEN}}}}">
    <request>
      headers:
        Authorization: Bearer {{{{$secrets.TOKEN}}}}
        X-Password: {{{{$secrets.PASSWORD}}}}
    </request>
  </source>
  <transform id="echo" type="template" input="api">
    <template>token={{{{$secrets.TOKEN}}}} password={{{{$secrets.PASSWORD}}}} echo={{{{input.echo}}}}</template>
  </transform>
  <sink id="save" type="file" input="echo" path="out/{{{{$secrets.TOKEN}}}}.txt"/>
  <source id="missing" type="file" input="save" path="data/{{{{$secrets.TOKEN}}}}-{{{{$secrets.PASSWORD}}}}.json"/>
  <source id="refused" type="http" input="save"
          url="http://127.0.0.1:{closed_port()}/x/{{{{$secrets.TOKEN}}}}/{{{{$secrets.PASSWORD}}}}"/>
  <source id="late" type="http" input="save" url="{server.url}/slow/{{{{$secrets.TOKEN}}}}" timeout="200"/>
  <source id="boom" type="http" input="save" url="{server.url}/fail/{{{{$secrets.TOKEN}}}}"/>
  <transform id="duration" type="template" input="save">
    <template>{{{{ add_time('2020-01-01', $secrets.TOKEN) }}}}</template>
  </transform>
  <transform id="pattern" type="template" input="save">
    <template>{{{{ match('x', $secrets.PASSWORD + '(') }}}}</template>
  </transform>
  <transform id="tok" type="template"><template>token={{{{$secrets.TOKEN}}}}</template></transform>
  <transform id="up" type="template" input="tok"><template>{{{{upper(input)}}}}</template></transform>
  <transform id="low" type="map" input="up" expression="lower(substring($item, 6)) + '!'"/>
  <transform id="part" type="template"><template>{{{{slice($secrets.TOKEN, 2, 14)}}}}</template></transform>
  <transform id="basic" type="template"><template>{{{{base64_encode($config.user + ":" + $secrets.PASSWORD)}}}}</template></transform>
  <transform id="concat" type="map" input="part" expression="$secrets.TOKEN + '+' + join(reverse(split($secrets.TOKEN, '')), '')"/>
  <source id="authed" type="http" url="{server.url}/basic">
    <request>
      headers:
        Authorization: Basic {{{{basic.output}}}}
    </request>
  </source>
  <sink id="derived-file" type="file" input="low" path="out/{{{{part.output}}}}.txt"/>
  <source id="derived-missing" type="file" input="low" path="data/{{{{part.output}}}}-{{{{upper($secrets.TOKEN)}}}}.json"/>
  <checkpoint id="review" input="up" default="approve" prompt="Publish {{{{input}}}} for {{{{concat.output}}}}?"/>
</workflow>
""", encoding="utf-8")
    return path


def server_for_secrets() -> FlakyServer:
    echo = {"echo": f"{TOKEN} {PASSWORD}"}
    return FlakyServer({
        "/basic": [answer(200, {"echo": derived()["basic"], "upper": derived()["upper"]})],
        f"/data/{TOKEN}": [answer(200, echo)],
        f"/fail/{TOKEN}": [answer(500, {"error": f"bad key {TOKEN}", "password": PASSWORD})],
        f"/slow/{TOKEN}": [slow(5)],
    })


def written_files(folder: Path, skip: Path) -> dict[str, str]:
    """Every file under `folder` except the workflow's own output folder `skip`."""
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file() and skip not in p.parents}


def assert_the_secrets_were_used(server: FlakyServer, out: Path) -> None:
    [hit] = server.to(f"/data/{TOKEN}")
    assert hit.headers["authorization"] == f"Bearer {TOKEN}" and hit.headers["x-password"] == PASSWORD
    assert (out / f"{TOKEN}.txt").read_text() == f"token={TOKEN} password={PASSWORD} echo={TOKEN} {PASSWORD}"
    assert len(server.to(f"/fail/{TOKEN}")) == 1 and len(server.to(f"/slow/{TOKEN}")) == 1
    [basic] = server.to("/basic")  # the derived values did their work
    assert basic.headers["authorization"] == f"Basic {derived()['basic']}"
    assert (out / f"{derived()['slice']}.txt").read_text() == derived()["lower"]


FAILED_NODES = {"missing": "RUN_FILE_ERROR", "refused": "RUN_TRANSPORT_ERROR", "late": "RUN_TIMEOUT",
                "boom": "RUN_HTTP_ERROR", "duration": "EXPR_EVAL_ERROR", "pattern": "EXPR_EVAL_ERROR",
                "derived-missing": "RUN_FILE_ERROR"}
DERIVED_NODES = {"echo", "tok", "up", "low", "part", "basic", "concat"}


def assert_every_failure_was_recorded(state: dict[str, Any]) -> None:
    results = state["nodeResults"]
    assert {k: results[k]["error"]["code"] for k in FAILED_NODES} == FAILED_NODES
    messages = " ".join(results[k]["error"]["message"] for k in FAILED_NODES)
    assert messages.count("***") >= 7, messages  # the secrets were in the messages, and were cut out
    assert {k for k, r in results.items() if r.get("secret")} == DERIVED_NODES | {"review"}
    assert all(results[k]["output"] == "***" for k in DERIVED_NODES | {"review"})


def test_no_secret_in_anything_a_local_run_writes_or_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with server_for_secrets() as server:
        path = workflow(tmp_path, server, "secret-local")
        result = invoke(["run", "--local", path.name], env={"TOKEN": TOKEN, "PASSWORD": PASSWORD})
        assert_the_secrets_were_used(server, tmp_path / "out")
    assert result.exit_code == 1, result.output
    state_files = list((tmp_path / ".flowscript-state").rglob("*.json"))
    assert len(state_files) == 1
    assert_every_failure_was_recorded(json.loads(state_files[0].read_text()))
    texts = written_files(tmp_path, tmp_path / "out")
    texts |= {"stdout": result.stdout, "stderr": result.stderr}
    assert "## Execution Log" in texts[path.name] and "***" in texts[path.name]
    assert all(node in result.stdout for node in FAILED_NODES)
    assert leaks(texts) == [], "\n".join(leaks(texts))


def test_a_json_summary_and_a_resume_leak_nothing_either(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"TOKEN": TOKEN, "PASSWORD": PASSWORD}
    with server_for_secrets() as server:
        path = workflow(tmp_path, server, "secret-resume")
        first = invoke(["run", "--local", "--format", "json", path.name], env=env)
        state_file = json.loads(first.stdout)["stateFile"]
        again = invoke(["resume", "--format", "json", state_file], env=env)
    assert first.exit_code == 1 and again.exit_code == 1, again.output
    texts = written_files(tmp_path, tmp_path / "out")
    texts |= {"first stdout": first.stdout, "first stderr": first.stderr,
              "resume stdout": again.stdout, "resume stderr": again.stderr}
    assert leaks(texts) == [], "\n".join(leaks(texts))


# ------------------------------------------------------------------ Prefect


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["thread", "dask"])
async def test_no_secret_in_anything_a_prefect_run_keeps(tmp_path: Path, prefect_api, runner: str) -> None:
    """`flowscript run` (through Prefect) as a real process; then the API is asked for all it kept.
    With dask, the node executions run in a LocalCluster's worker processes (their logs reach the
    command's output, their results the same storage)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    with server_for_secrets() as server:
        path = workflow(tmp_path, server, f"secret-prefect-{runner}")
        env = {**os.environ, **prefect_api.env(), "TOKEN": TOKEN, "PASSWORD": PASSWORD, "NO_COLOR": "1",
               "FLOWSCRIPT_TASK_RUNNER": runner, "FLOWSCRIPT_DASK_WORKERS": "2"}
        done = subprocess.run([sys.executable, "-m", "flowscript", "run", "--format", "json", path.name],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert_the_secrets_were_used(server, tmp_path / "out")
    assert done.returncode == 1, done.stderr
    run_id = UUID(json.loads(done.stdout)["runId"])
    async with get_client() as client:
        flow_run = await client.read_flow_run(run_id)
        task_runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    assert task_runs and logs and artifacts
    texts = written_files(tmp_path, tmp_path / "out")
    state_files = list((tmp_path / ".flowscript-state").rglob("*.json"))
    assert len(state_files) == 1
    assert_every_failure_was_recorded(json.loads(state_files[0].read_text()))
    texts |= {"stdout": done.stdout, "stderr": done.stderr,
              "flow run": flow_run.model_dump_json(), "parameters": json.dumps(flow_run.parameters)}
    texts |= {f"task run {t.name}": t.model_dump_json() for t in task_runs}
    texts |= {f"log {i}": log.message for i, log in enumerate(logs)}
    texts |= {f"artifact {a.key}": json.dumps(a.data) for a in artifacts}
    stored = [p for p in prefect_api.results.rglob("*") if p.is_file()]
    assert stored
    texts |= {f"result {p.name}": p.read_text(errors="replace") for p in stored}
    assert leaks(texts) == [], "\n".join(leaks(texts))


@pytest.mark.slow  # it imports Prefect, which local-only test runs never do
async def test_a_prefect_task_run_only_ever_sees_redacted_errors() -> None:
    """The fix for what the Prefect test found: a failed node's exception reached Prefect (its
    logs, the task run's state message, the persisted result) with the secret in its message.
    The node task (what every task run of a data node runs) redacts what it raises."""
    from dataclasses import dataclass

    from flowscript.errors import FileError, HttpError
    from flowscript.nodes.data import SourceNode
    from flowscript.prefect_backend import backend
    from flowscript.runtime.execution import NodeExecution, Resources
    from flowscript.syntax.source import Location

    errors = [FileError(f"file not found: data/{TOKEN}.json", hint=f"is {PASSWORD} right?"),
              HttpError(503, "Service Unavailable", {"echo": TOKEN}, retry_after=2.0, url=f"http://h/{TOKEN}")]

    @dataclass(kw_only=True, slots=True)
    class Failing(SourceNode):
        type = "failing"

        async def run(self, call: Any) -> Any:
            raise errors[int(self.id[-1])]

    backend._HERE["r"] = Resources(secrets={"TOKEN": TOKEN, "PASSWORD": PASSWORD})
    for i, error in enumerate(errors):
        execution = NodeExecution(node=Failing(id=f"n{i}", location=Location(1, 1)), run_id="r", key=f"n{i}",
                                  input=None, names={}, config={}, context={}, secret_names=("TOKEN", "PASSWORD"),
                                  hyphen_ids=frozenset(), retry=None, workdir=".")
        with pytest.raises(type(error)) as caught:
            await backend.node_task.fn(f"n{i}", backend.Sealed(execution))
        assert caught.value is error  # the same exception: its type and retry fields drive the retry rules
        assert leaks({"message": str(error), "fields": repr(vars(error)), "args": repr(error.args)}) == []
    assert errors[1].retryable and errors[1].retry_after == 2.0 and errors[1].body == {"echo": "***"}


async def test_what_leaves_for_a_worker_holds_secret_names_not_values(tmp_path: Path) -> None:
    """Every node execution and foreach chunk, as the bytes a Dask worker would receive."""
    import pickle

    from local_runs import run_local

    from flowscript.runtime.local_backend import LocalBackend

    sent: list[bytes] = []

    class Shipping(LocalBackend):
        def iteration_chunk_size(self, items: int) -> int | None:
            return 2

        async def run_node(self, execution: Any, resources: Any) -> Any:
            sent.append(pickle.dumps(execution))
            return await super().run_node(execution, resources)

        async def run_chunk(self, chunk: Any, resources: Any) -> Any:
            sent.append(pickle.dumps(chunk))
            return await super().run_chunk(chunk, resources)

    with server_for_secrets() as server:
        path = tmp_path / "ship.flow.md"
        path.write_text(f"""---
name: ship
version: 1.0.0
secrets: [TOKEN, PASSWORD]
---
<workflow>
  <source id="data" type="http" url="{server.url}/data/{{{{$secrets.TOKEN}}}}">
    <request>
      headers:
        Authorization: Bearer {{{{$secrets.TOKEN}}}}
        X-Password: {{{{$secrets.PASSWORD}}}}
    </request>
  </source>
  <foreach id="each" collection="[1, 2, 3]">
    <source id="again" type="http" url="{server.url}/data/{{{{$secrets.TOKEN}}}}"/>
  </foreach>
</workflow>
""")
        outcome = await run_local(path, secrets={"TOKEN": TOKEN, "PASSWORD": PASSWORD}, backend=Shipping())
        assert outcome.status == "completed", outcome.failure
        assert len(server.to(f"/data/{TOKEN}")) == 4  # the secrets were used, where the executions ran
    assert len(sent) == 1 + 2  # the source's execution, and the foreach's two chunks
    assert all(b"TOKEN" in payload for payload in sent)  # the names travel
    found = [form for payload in sent for secret in (TOKEN, PASSWORD) for form in forms(secret)
             if form.encode() in payload]
    assert found == []

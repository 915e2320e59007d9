"""`flowscript run` goes through Prefect unless --local: against a Prefect server when
PREFECT_API_URL names one, else on a temporary embedded one; `resume` of a Prefect run
resumes it through Prefect. The conformance cases pass this way too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from loopback import CountingServer
from prefect_server import free_port

FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def _cli(folder: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FLOWSCRIPT), *args], cwd=folder, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


async def test_run_without_local_is_a_flow_run_on_the_server_and_resume_goes_back_to_prefect(
        write_flow, prefect_api, client):
    with CountingServer({"/a": {"n": 1}, "/b": {"n": 2}}, fail_first={"/b": [404]}) as server:
        path = write_flow(f"""
<source id="a" type="http" url="{server.url}/a"/>
<source id="b" type="http" url="{server.url}/b"/>
<transform id="sum" type="template"><template>{{{{a.output.n + b.output.n}}}}</template></transform>
<sink id="save" type="file" input="sum" path="out/sum.txt"/>""", name="cli-resume")
        first = _cli(path.parent, prefect_api.env(), "run", path.name, "--format", "json")
        assert first.returncode == 1, first.stdout + first.stderr
        summary = json.loads(first.stdout)
        flow_run = await client.read_flow_run(UUID(summary["runId"]))
        assert flow_run.state.is_failed() and summary["nodes"]["b"]["status"] == "failed"
        state = json.loads(Path(path.parent / summary["stateFile"]).read_text())
        assert state["backend"] == "prefect" and state["status"] == "failed"

        resumed = _cli(path.parent, prefect_api.env(), "resume", summary["stateFile"], "--format", "json")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert (server.committed["/a"], server.received["/b"]) == (1, 2)
    assert json.loads(resumed.stdout)["runId"] == summary["runId"]  # the run keeps its id
    assert (path.parent / "out" / "sum.txt").read_text() == "3"
    runs = [r for r in await client.read_flow_runs() if r.flow_id == flow_run.flow_id]
    assert sorted(r.state.type.value for r in runs) == ["COMPLETED", "FAILED"]  # the resume is a flow run too


def _conformance(prefect_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CONFORMANCE / "run.py"), "--backend", "prefect",
                           "--flowscript", str(FLOWSCRIPT), *args], capture_output=True, text=True, timeout=1200,
                          env={**os.environ, **prefect_env})


@pytest.mark.timeout(900)
def test_the_conformance_cases_pass_through_prefect_on_a_server(prefect_api):
    if not (CONFORMANCE / "run.py").exists():
        pytest.skip("the shared conformance suite is not beside this checkout")
    result = _conformance(prefect_api.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "22 passed, 0 failed"


@pytest.mark.timeout(300)
def test_without_a_server_a_temporary_prefect_api_serves_the_run(tmp_path):
    if not (CONFORMANCE / "run.py").exists():
        pytest.skip("the shared conformance suite is not beside this checkout")
    no_server = {"PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect-home"),
                 "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    result = _conformance(no_server, "-k", "retry-then-success")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_an_api_that_does_not_answer_is_a_clear_error_and_the_file_is_untouched(write_flow):
    path = write_flow('<transform id="t" type="template"><template>x</template></transform>', name="no-api")
    before = path.read_bytes()
    result = _cli(path.parent, {"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}, "run", path.name)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "RUN_PREFECT_ERROR cannot reach the Prefect API" in result.stderr
    assert "hint: start it (`prefect server start`)" in result.stderr
    assert "Traceback" not in result.stderr and path.read_bytes() == before

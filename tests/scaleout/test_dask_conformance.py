"""The public conformance cases through Prefect with `--task-runner dask`: on a temporary
LocalCluster of two worker processes, and on an external cluster whose workers have none of
the run's environment (the ai case's key reaches them as a Prefect Secret block)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dask_support import Cluster

pytestmark = pytest.mark.slow
FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def _conformance(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if not (CONFORMANCE / "run.py").exists():
        pytest.skip("the shared conformance suite is not beside this checkout")
    return subprocess.run([sys.executable, str(CONFORMANCE / "run.py"), "--backend", "prefect",
                           "--flowscript", str(FLOWSCRIPT)], capture_output=True, text=True, timeout=1500,
                          env={**os.environ, **env})


@pytest.mark.timeout(1500)
def test_the_conformance_cases_pass_on_a_local_dask_cluster(prefect_api):
    result = _conformance({**prefect_api.env(), "FLOWSCRIPT_TASK_RUNNER": "dask", "FLOWSCRIPT_DASK_WORKERS": "2"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "22 passed, 0 failed"


@pytest.mark.timeout(1500)
def test_the_conformance_cases_pass_on_an_external_dask_cluster(prefect_api, dask_cluster: Cluster):
    from prefect.blocks.system import Secret

    Secret(value="conformance-test-key").save("openrouter-api-key", overwrite=True)
    before = dask_cluster.executed()
    try:
        result = _conformance({**prefect_api.env(), "FLOWSCRIPT_TASK_RUNNER": "dask",
                               "FLOWSCRIPT_DASK_ADDRESS": dask_cluster.address})
    finally:
        _delete_block("secret", "openrouter-api-key")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "22 passed, 0 failed"
    assert dask_cluster.executed() - before >= 40  # the cases' node executions ran in the workers


def _delete_block(block_type: str, name: str) -> None:
    import asyncio

    from prefect.client.orchestration import get_client

    async def delete() -> None:
        async with get_client() as client:
            document = await client.read_block_document_by_name(name, block_type)
            await client.delete_block_document(document.id)

    asyncio.run(delete())

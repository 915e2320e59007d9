"""Retrying a failed flow run in Prefect (what the UI's Retry or a flow's retries do) does
not run again the nodes that succeeded: the run's state file is resumed when it is there,
and the persisted task results answer for those nodes when it is not (another machine)."""

from __future__ import annotations

import json
import shutil
from uuid import UUID

import pytest
from loopback import CountingServer


async def _retry_flow_run(client, flow_run_id: str, path, state_dir) -> object:
    """Does what a worker does with a flow run set back to Scheduled: runs the same flow run again."""
    from prefect.flow_engine import run_flow_async
    from prefect.states import Scheduled

    from flowscript.compiler.loader import load_workflow
    from flowscript.prefect_backend.flow_builder import LAUNCH, Launch, build_flow
    from flowscript.runtime.engine import RunOptions

    await client.set_flow_run_state(UUID(flow_run_id), Scheduled(), force=True)
    flow_run = await client.read_flow_run(UUID(flow_run_id))
    launch = Launch(options=RunOptions(workdir=path.parent, state_dir=state_dir, env={}), interactive=False)
    token = LAUNCH.set(launch)
    try:
        final = await run_flow_async(build_flow(load_workflow(path).plan), flow_run=flow_run,
                                     parameters=flow_run.parameters, return_type="state")
    finally:
        LAUNCH.reset(token)
    return final, launch


@pytest.mark.parametrize("keep_state_file", [True, False], ids=["state-file", "persisted-results"])
async def test_a_retried_flow_run_reuses_what_succeeded(write_flow, run_prefect, client, keep_state_file):
    with CountingServer({"/a": {"n": 1}, "/b": {"n": 2}}, fail_first={"/b": [404]}) as server:
        path = write_flow(f"""
<source id="a" type="http" url="{server.url}/a"/>
<transform id="after-a" type="template" input="a"><template>{{{{input.n}}}}</template></transform>
<source id="b" type="http" input="after-a" url="{server.url}/b"/>
<sink id="save" type="file" input="b" path="out/b.json"/>""")
        state_dir = path.parent / ".state"
        first = await run_prefect(path, state_dir=state_dir)
        assert first.status == "failed" and server.committed["/a"] == 1
        if not keep_state_file:
            shutil.rmtree(state_dir)
        final, launch = await _retry_flow_run(client, first.flow_run_id, path, state_dir)
        assert final.is_completed(), final
        assert (server.committed["/a"], server.received["/b"]) == (1, 2)
    assert launch.state.run_id == first.flow_run_id and launch.state.status == "completed"
    assert json.loads((path.parent / "out" / "b.json").read_text()) == {"n": 2}
    assert launch.state.node_results["after-a"].output == "1"

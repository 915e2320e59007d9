"""Expected outcomes are not crashes (issue: a rejected checkpoint printed Prefect's `ERROR ... Task
run failed with exception: CheckpointRejected` and a full traceback). A rejected checkpoint, a node
failure after its retries, a fallback taking over, a run timeout and a break each end with the
command's own lines on the terminal and no traceback, through Prefect and locally; through
Prefect the rejected checkpoint's task run and the flow run end Cancelled."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from loopback import CountingServer
from prefect_support import recorded_task_runs

OUTCOMES = {
    "rejected": ("""
<transform id="draft" type="template"><template>hello</template></transform>
<if id="gate" condition="true"><then>
  <checkpoint id="review" input="draft" prompt="Publish?"/>
</then></if>
<sink id="save" type="file" input="gate" path="out/x.json"/>""", (), 1),
    "failed": ("""
<source id="flaky" type="http" url="{url}/fail"><on-error><retry max="1" base="10"/></on-error></source>""", (), 1),
    "timeout": ("""
<source id="slow" type="http" url="{url}/slow"/>""", ("--timeout", "1"), 1),
    "fallback-and-break": ("""
<source id="live" type="http" url="{url}/fail"><on-error><retry max="1" base="10"/><fallback node="cache"/></on-error></source>
<transform id="cache" type="template"><template>cached</template></transform>
<loop id="pages" max="5">
  <transform id="page" type="template"><template>{{{{$iteration}}}}</template></transform>
  <if id="last" condition="$iteration == 1"><then><break/></then></if>
</loop>
<foreach id="each" collection="[1, 2, 3]" item="n" concurrency="2">
  <if id="skip" condition="n == 2"><then><break/></then></if>
</foreach>""", (), 0),
}


def run_cli(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowscript", "run", *args], cwd=folder, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "NO_COLOR": "1", **env})


def run_each(write_flow, env: dict[str, str], *local: str) -> dict[str, subprocess.CompletedProcess[str]]:
    done = {}
    with CountingServer({"/fail": 1, "/slow": 1}, fail_first={"/fail": [503] * 50}, delays={"/slow": 5}) as server:
        for name, (body, options, code) in OUTCOMES.items():
            path = write_flow(body.format(url=server.url), name=name)
            done[name] = result = run_cli(path.parent, env, *local, *options, path.name)
            assert result.returncode == code, (name, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr + result.stdout, (name, result.stderr)
            assert "ERROR" not in result.stderr, (name, result.stderr)
    return done


@pytest.mark.slow
def test_expected_outcomes_print_no_traceback_locally(write_flow):
    done = run_each(write_flow, {}, "--local")
    assert done["rejected"].stderr.strip() == "error: rejected at checkpoint 'review' by default (no one to ask)"


@pytest.mark.parametrize("runner", ["thread", "dask"])
async def test_expected_outcomes_print_no_traceback_through_prefect(write_flow, prefect_api, client, runner):
    """With dask, the node executions run in a temporary cluster's worker processes, whose output
    is this command's too."""
    done = run_each(write_flow, {**prefect_api.env(), "FLOWSCRIPT_TASK_RUNNER": runner, "FLOWSCRIPT_DASK_WORKERS": "1"})
    assert done["rejected"].stderr.strip() == "error: rejected at checkpoint 'review' by default (no one to ask)"
    # (a Dask cluster stopped while a worker still runs the cut-off request says so, as a warning)
    assert done["timeout"].stderr.strip().endswith("error: run timed out after 1s; unfinished: slow")
    assert done["failed"].stderr.strip() == "error: node 'flaky' failed: HTTP 503: Service Unavailable"
    assert done["rejected"].stdout.startswith("rejected: cancelled in ")
    run_id = re.search(r"\(run ([0-9a-f-]{36})\)", done["rejected"].stdout).group(1)
    flow_run = await client.read_flow_run(UUID(run_id))
    assert flow_run.state.is_cancelled()
    task_runs = await recorded_task_runs(client, flow_run.id, names={"draft", "gate", "review"})
    states = {t.name: t.state.type.value for t in task_runs}
    # the rejection ends its task run (and the `if` around it) Cancelled, not Failed with a traceback
    assert states == {"draft": "COMPLETED", "gate": "CANCELLED", "review": "CANCELLED"}, states


def test_the_events_workers_notice_at_exit_stays_off_the_terminal():
    """"Still processing items: 1 items remaining..." came through on a run's last line (CI, once
    in a few hundred runs): the level was set on a logger Prefect's events worker does not use."""
    from prefect.events.clients import NullEventsClient
    from prefect.events.worker import EventsWorker

    from flowscript.prefect_backend.console import quiet_console

    worker = EventsWorker(NullEventsClient, ())  # not started: only its logger is looked at
    quiet_console()
    assert not worker._logger.isEnabledFor(logging.WARNING)

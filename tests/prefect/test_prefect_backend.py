"""The Prefect backend against a real Prefect API: a flow run per workflow run, a task run
per node execution, Prefect retries and timeouts, concurrency, chunked foreach, the log
artifact, and no secret anywhere Prefect keeps things."""

from __future__ import annotations

import asyncio
from uuid import UUID

from loopback import CountingServer
from prefect_support import PrefectOutcome, recorded_task_runs

CONFIG = """config:
  base_url: {type: string, default: "http://127.0.0.1:9", description: Where the API lives}
  factor: {type: number, default: 2, description: What to multiply by}
  label: {type: string, required: true}
"""


async def task_runs(client, outcome: PrefectOutcome) -> dict[str, object]:
    """The run's task runs by name, once the server has recorded every one the backend made."""
    runs = await recorded_task_runs(client, outcome.flow_run_id, ids=outcome.task_run_ids)
    return {run.name: run for run in runs}


async def test_a_workflow_run_is_a_flow_run_with_a_task_run_per_node(write_flow, run_prefect, client):
    path = write_flow("""
<transform id="calc" type="template"><template>{{$config.label}}={{input.n * $config.factor}}</template></transform>
<if id="big" condition="length(input) > 1" input="calc">
  <then><transform id="shout" type="template"><template>{{upper(input)}}</template></transform></then>
</if>
<sink id="save" type="file" input="big" path="out/result.txt"/>""", extra=CONFIG)
    outcome = await run_prefect(path, config={"label": "x"}, input={"n": 21})
    assert outcome.status == "completed" and outcome.failure is None
    assert (path.parent / "out" / "result.txt").read_text() == "X=42"
    flow_run = await client.read_flow_run(UUID(outcome.flow_run_id))
    assert flow_run.state.is_completed()
    assert (await client.read_flow(flow_run.flow_id)).name == "test-flow"
    assert flow_run.parameters == {"base_url": "http://127.0.0.1:9", "factor": 2, "label": "x", "input": {"n": 21}}
    runs = await task_runs(client, outcome)
    assert set(runs) == {"calc", "big", "shout", "save"}
    assert {tag for tag in runs["calc"].tags if tag != "flowscript"} == {"transform:template"}
    assert "if" in runs["big"].tags and "sink:file" in runs["save"].tags
    assert all(run.state.is_completed() for run in runs.values())


def test_the_flow_parameters_are_the_typed_config_fields_plus_input(write_flow):
    from flowscript.compiler.loader import load_workflow
    from flowscript.prefect_backend.flow_builder import build_flow

    flow = build_flow(load_workflow(write_flow("<transform id=\"t\" type=\"template\"><template>x</template>"
                                               "</transform>", extra=CONFIG)).plan)
    schema = flow.parameters.model_dump_for_openapi()
    properties = schema["properties"]
    assert flow.name == "test-flow" and set(properties) == {"base_url", "factor", "label", "input"}
    assert properties["factor"]["type"] == "number" and properties["factor"]["default"] == 2
    assert properties["factor"]["description"] == "What to multiply by"
    assert properties["base_url"]["type"] == "string" and properties["label"]["type"] == "string"
    assert schema["required"] == ["label"]


async def test_retries_are_prefect_task_retries_and_a_fallback_is_its_own_task_run(write_flow, run_prefect, client):
    with CountingServer({"/flaky": {"ok": True}}, fail_first={"/flaky": [503, 500], "/down": [500] * 10}) as server:
        path = write_flow(f"""
<source id="flaky" type="http" url="{server.url}/flaky"><on-error><retry max="3" base="1"/></on-error></source>
<source id="live" type="http" url="{server.url}/down">
  <on-error><retry max="1" base="1"/><fallback node="cache"/></on-error>
</source>
<transform id="cache" type="template"><template>cached after {{{{$primaryError}}}}</template></transform>""")
        outcome = await run_prefect(path)
    assert outcome.status == "completed"
    assert outcome.output("flaky") == {"ok": True} and outcome.state.node_results["flaky"].attempts == 3
    assert outcome.output("live") == "cached after HTTP 500: Internal Server Error"
    runs = await task_runs(client, outcome)
    assert runs["flaky"].run_count == 3 and runs["flaky"].state.is_completed()
    assert runs["live"].run_count == 2 and runs["live"].state.is_failed()
    assert runs["live->cache"].run_count == 1 and runs["live->cache"].state.is_completed()
    assert server.received["/down"] == 2


async def test_an_attempt_timeout_cancels_the_attempt_and_is_retried(write_flow, run_prefect, client):
    with CountingServer({"/slow": 1}, delays={"/slow": 1.5}) as server:
        path = write_flow(f'<source id="slow" type="http" url="{server.url}/slow">'
                          '<on-error><retry max="1" base="1" timeout="200"/></on-error></source>')
        outcome = await run_prefect(path)
    assert outcome.status == "failed"
    result = outcome.state.node_results["slow"]
    assert result.attempts == 2 and "timed out after 0.2s" in result.error.message and result.error.retryable
    runs = await task_runs(client, outcome)
    assert runs["slow"].run_count == 2 and runs["slow"].state.is_failed()


async def test_at_most_max_concurrency_node_task_runs_at_once(write_flow, run_prefect, client):
    with CountingServer({"/work": 1}, delays={"/work": 0.3}) as server:
        path = write_flow("".join(f'<source id="n{i}" type="http" url="{server.url}/work"/>' for i in range(8)))
        outcome = await run_prefect(path, max_concurrency=3)
        assert server.max_in_flight == 3
    assert outcome.status == "completed"
    runs = list((await task_runs(client, outcome)).values())
    events = sorted([(r.start_time, 1) for r in runs] + [(r.end_time, -1) for r in runs])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak == 3


async def test_a_large_foreach_runs_in_chunk_task_runs(write_flow, run_prefect, client):
    path = write_flow('<foreach id="each" collection="range(0, 250)" concurrency="5">'
                      '<transform id="sq" type="template"><template>{{item * 2}}</template></transform></foreach>')
    outcome = await run_prefect(path)
    assert outcome.status == "completed" and outcome.output("each") == [str(i * 2) for i in range(250)]
    assert outcome.state.node_results["each[249].sq"].output == "498"
    runs = await task_runs(client, outcome)
    assert set(runs) == {"each", "each[0-99]", "each[100-199]", "each[200-249]"}
    assert {run.id for run in runs.values()} == set(outcome.task_run_ids)  # what a temporary server waits for
    assert "foreach" in runs["each[0-99]"].tags


async def test_a_small_foreach_shows_every_iteration_as_task_runs(write_flow, run_prefect, client):
    path = write_flow('<foreach id="each" collection="range(0, 3)">'
                      '<transform id="sq" type="template"><template>{{item}}</template></transform></foreach>')
    outcome = await run_prefect(path)
    runs = await task_runs(client, outcome)
    assert set(runs) == {"each", "each[0].sq", "each[1].sq", "each[2].sq"}


async def test_a_rejected_checkpoint_cancels_the_flow_run(write_flow, run_prefect, client):
    path = write_flow('<checkpoint id="gate" prompt="Go?" default="reject"/>'
                      '<transform id="after" type="template" input="gate"><template>x</template></transform>')
    outcome = await run_prefect(path)
    assert outcome.status == "cancelled" and outcome.state.cancellation.checkpoint == "gate"
    flow_run = await client.read_flow_run(UUID(outcome.flow_run_id))
    assert flow_run.state.is_cancelled()


async def test_a_run_timeout_fails_the_flow_run_and_names_what_did_not_finish(write_flow, run_prefect, client):
    with CountingServer({"/slow": 1}, delays={"/slow": 2}) as server:
        path = write_flow(f'<source id="slow" type="http" url="{server.url}/slow"/>')
        outcome = await run_prefect(path, timeout_s=0.5)
    assert outcome.status == "failed" and outcome.state.unfinished == ["slow"]
    flow_run = await client.read_flow_run(UUID(outcome.flow_run_id))
    assert flow_run.state.is_failed() and "timed out" in flow_run.state.message


async def test_the_log_is_a_markdown_artifact_of_the_flow_run(write_flow, run_prefect, client):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    path = write_flow('<transform id="t" type="template"><template>hello</template></transform>')
    outcome = await run_prefect(path)
    artifacts = await client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(outcome.flow_run_id)])))
    assert [a.key for a in artifacts] == ["flowscript-log-test-flow"]
    markdown = artifacts[0].data
    assert "## Execution Log" in markdown and f"`{outcome.flow_run_id}`" in markdown
    assert '| t | success |' in markdown and markdown.strip() in path.read_text()


async def test_the_artifact_is_published_beside_the_flow_run_end_and_a_refusal_only_warns(
        write_flow, run_prefect, client, prefect_api):
    """The command line's run hands the artifact request to the caller, which sends it while
    Prefect records the flow run's end; if the API refuses it, the run's result stands."""
    import respx

    path = write_flow('<transform id="t" type="template"><template>hello</template></transform>')
    with respx.mock(assert_all_called=False) as router:
        refused = router.post(url__regex=r"/api/artifacts/$").respond(500, json={"detail": "disk full"})
        router.route(url__startswith=prefect_api.url).pass_through()
        outcome = await run_prefect(path)
    assert refused.call_count == 1 and outcome.status == "completed"
    assert len(outcome.warnings) == 1 and outcome.warnings[0].startswith(
        "could not publish the execution log as a Prefect artifact: ")
    flow_run = await client.read_flow_run(UUID(outcome.flow_run_id))
    assert flow_run.state.is_completed() and "## Execution Log" in path.read_text()


async def test_no_secret_reaches_prefect_results_parameters_logs_or_artifacts(write_flow, run_prefect, client,
                                                                               prefect_api):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId

    canary = "canary-5be1f07d"
    with CountingServer({"/data": {"echo": canary}}) as server:
        path = write_flow(f"""
<source id="api" type="http" url="{server.url}/data">
  <request>
    headers:
      Authorization: Bearer {{{{$secrets.TOKEN}}}}
  </request>
</source>
<transform id="echo" type="template" input="api"><template>token={{{{$secrets.TOKEN}}}} {{{{input.echo}}}}</template></transform>
<sink id="save" type="file" input="echo" path="out/echo.txt"/>
<source id="boom" type="http" input="save" url="{server.url}/fail/{{{{$secrets.TOKEN}}}}"/>""", extra="secrets: [TOKEN]\n")
        outcome = await run_prefect(path, env={"TOKEN": canary})
        assert server.headers["/data"][0]["Authorization"] == f"Bearer {canary}"  # it was used
    assert outcome.status == "failed"
    assert (path.parent / "out" / "echo.txt").read_text() == f"token={canary} {canary}"  # the workflow's own output
    flow_run_id = UUID(outcome.flow_run_id)
    flow_run = await client.read_flow_run(flow_run_id)
    for _ in range(100):  # logs reach the API a moment after they are written
        logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        if any("boom" in log.message for log in logs):
            break
        await asyncio.sleep(0.1)
    artifacts = await client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    task_states = [r.state.message or "" for r in (await task_runs(client, outcome)).values()]
    kept = [str(flow_run.parameters), flow_run.state.message or "", *task_states,
            *(log.message for log in logs), *(str(a.data) for a in artifacts), path.read_text()]
    stored = [p for p in prefect_api.results.rglob("*") if p.is_file()]
    assert stored  # results were persisted, redacted
    kept += [p.read_text(errors="replace") for p in stored]
    kept += [p.read_text() for p in (path.parent / ".state").rglob("*") if p.is_file()]
    assert artifacts and logs and any("***" in text for text in kept)
    assert [text for text in kept if canary in text] == []


async def test_a_global_concurrency_limit_named_after_the_workflow_caps_every_run(write_flow, run_prefect, client):
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="flowscript-capped", limit=2))
    with CountingServer({"/work": 1}, delays={"/work": 0.3}) as server:
        paths = [write_flow("".join(f'<source id="n{i}" type="http" url="{server.url}/work"/>' for i in range(3)),
                            name="capped", filename=f"capped-{run}.flow.md") for run in range(2)]
        outcomes = await asyncio.gather(*(run_prefect(p, max_concurrency=10) for p in paths))
        assert [o.status for o in outcomes] == ["completed", "completed"]
        assert server.received["/work"] == 6 and server.max_in_flight == 2  # two runs, one cap of 2


async def test_a_tag_concurrency_limit_on_a_node_kind_caps_those_task_runs(write_flow, run_prefect, client):
    path = write_flow("".join(f'<source id="n{i}" type="http" url="{{{{$config.base}}}}/work"/>' for i in range(4))
                      + '<transform id="t" type="template"><template>x</template></transform>',
                      extra='config:\n  base: {type: string, required: true}\n')
    with CountingServer({"/work": 1}, delays={"/work": 0.2}) as server:
        free = await run_prefect(path, config={"base": server.url}, max_concurrency=4)
        assert free.status == "completed" and server.max_in_flight == 4  # primed "no limit" for source:http
    await client.create_concurrency_limit(tag="source:http", concurrency_limit=1)
    try:
        with CountingServer({"/work": 1}, delays={"/work": 0.2}) as server:
            capped = await run_prefect(path, config={"base": server.url}, max_concurrency=4)
            assert capped.status == "completed" and server.received["/work"] == 4
            assert server.max_in_flight == 1  # the limit made after that run counts for the next one at once
    finally:
        await client.delete_concurrency_limit_by_tag("source:http")


async def test_task_runs_do_not_ask_for_tag_limits_that_do_not_exist(write_flow, run_prefect, prefect_api):
    """Prefect asks for a slot of every tag's limit before each tagged task run (a write on its
    API); the backend lists the limits once per run instead and tells Prefect none exist."""
    import prefect.concurrency.services as services
    import respx

    services._no_limits_cache.clear()  # what earlier runs in this process taught Prefect
    path = write_flow('<transform id="a" type="template"><template>x</template></transform>'
                      '<foreach id="each" collection="range(0, 3)">'
                      '<transform id="b" type="template"><template>{{item}}</template></transform></foreach>'
                      '<sink id="save" type="file" input="a" path="out/a.txt"/>')
    with respx.mock(assert_all_called=False) as router:
        asks = router.post(url__regex=r"/v2/concurrency_limits/increment-with-lease$").pass_through()
        router.route(url__startswith=prefect_api.url).pass_through()
        outcome = await run_prefect(path)
    assert outcome.status == "completed" and (path.parent / "out" / "a.txt").read_text() == "x"
    assert asks.call_count == 0


async def test_a_run_asks_for_one_csrf_token(write_flow, run_prefect, monkeypatch):
    """The limits listing and the flow run's creation start together on one client; each
    would ask for a CSRF token before its first write, one more request a run."""
    import httpx

    sent: list[str] = []
    send = httpx.AsyncClient.send

    async def counted(self: httpx.AsyncClient, request: httpx.Request, *args: object, **kwargs: object) -> object:
        sent.append(request.url.path)
        return await send(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", counted)
    path = write_flow('<transform id="a" type="template"><template>x</template></transform>')
    outcome = await run_prefect(path)
    assert outcome.status == "completed"
    assert sum(p.endswith("/csrf-token") for p in sent) == 1
    assert sum(p.endswith("/v2/concurrency_limits/filter") for p in sent) == 1


def test_the_chunk_size_comes_from_the_environment():
    import pytest

    from flowscript.errors import ValidationError
    from flowscript.prefect_backend.flow_builder import chunk_threshold_from

    assert chunk_threshold_from({}) == 100 and chunk_threshold_from({"FLOWSCRIPT_FOREACH_CHUNK": "25"}) == 25
    with pytest.raises(ValidationError, match="FLOWSCRIPT_FOREACH_CHUNK"):
        chunk_threshold_from({"FLOWSCRIPT_FOREACH_CHUNK": "0"})


def test_result_keys_are_one_plain_file_name_per_node_execution():
    from flowscript.prefect_backend.results import result_key

    keys = {result_key(wf, run, key) for wf in ("report", "../../etc", "a/b") for run in ("r1", "r2")
            for key in ("live->cache", "live__cache", "each[3].fmt", "each_3_.fmt")}
    assert len(keys) == 3 * 2 * 4
    assert all("/" not in key and not key.startswith(".") for key in keys)
    assert result_key("report", "r1", "save") == result_key("report", "r1", "save")

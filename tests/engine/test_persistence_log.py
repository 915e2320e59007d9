"""State files, secrets, the markdown log, resume (docs/language.md#persistence-and-resume,
docs/language.md#the-execution-log)."""

from __future__ import annotations

import json
import re

import httpx
import respx
from loopback import CountingServer

from flowscript.compiler.loader import load_workflow
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.markdown_log import with_log
from flowscript.runtime.persistence import COMPACT_AFTER_BYTES, StateStore, load_state
from flowscript.runtime.secrets import Redactor
from flowscript.runtime.state import NodeResult, RunState
from flowscript.signals import RunFailed

CANARY = "canary-5ecret-Xq9"


async def test_secret_values_never_reach_state_journal_log_or_outputs(write_flow, run, tmp_path):
    path = write_flow("""
<source id="api" type="http" url="http://127.0.0.1:9/data?key={{$secrets.API_KEY}}">
  <request>
    headers:
      Authorization: Bearer {{$secrets.API_KEY}}
  </request>
</source>
<transform id="echo" type="template" input="api"><template>token={{$secrets.API_KEY}} data={{input}}</template></transform>
<sink id="save" type="file" input="echo" path="out/echo.txt"/>
<source id="boom" type="http" url="http://127.0.0.1:9/fail/{{$secrets.API_KEY}}"/>""",
                      extra="secrets: [API_KEY]\n")
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"echo": CANARY})

    with respx.mock:
        respx.get(url__startswith="http://127.0.0.1:9/data").mock(side_effect=answer)
        respx.get(url__startswith="http://127.0.0.1:9/fail").mock(return_value=httpx.Response(500, text=CANARY))
        outcome = await run(path, secrets={"API_KEY": CANARY})
    assert seen == [f"Bearer {CANARY}"]  # the secret is used...
    assert outcome.status == "failed"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "echo.txt"]
    for file in written:  # ...and appears in nothing we wrote (the sink's own output is the user's data)
        assert CANARY not in file.read_text(errors="replace"), file
    assert "***" in outcome.state_file.read_text()


async def test_markdown_log_shape_and_the_rest_of_the_file_is_kept(write_flow, run):
    path = write_flow('<transform id="a" type="template"><template>{{"x|" + repeat("y", 80)}}</template></transform>'
                      '<source id="b" type="file" path="missing.json"/>')
    original = path.read_bytes()
    await run(path)
    text = path.read_text()
    assert text.encode().startswith(original)
    log = text[len(original.decode()):]
    assert re.fullmatch(
        r"\n---\n\n## Execution Log\n\n\*\*Run ID:\*\* `[0-9a-f-]{36}`\n\*\*Workflow:\*\* test-flow\n"
        r"\*\*Timestamp:\*\* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n\*\*Duration:\*\* \d+\.\d\ds\n"
        r"\*\*Status:\*\* failed\n\*\*Waves:\*\* 1\n\n### Node Results\n\n"
        r"\| Node \| Status \| Duration \| Output \|\n\|------\|--------\|----------\|--------\|\n"
        r"(\| [ab] \| (success|failed) \| \d+\.\d\ds \| .* \|\n){2}", log), log
    rows = {line.split(" | ")[0][2:]: line for line in log.splitlines() if line.startswith("| a") or
            line.startswith("| b")}
    assert '| "x\\|' + "y" * 44 + '... |' in rows["a"]  # 47 + '...' = 50 chars, then | escaped
    assert "| Error: " in rows["b"] and "missing.json" in rows["b"]
    await run(path)  # the second run replaces the log; the document before it is untouched
    again = path.read_text()
    assert again.startswith(original.decode()) and again.count("## Execution Log") == 1


async def test_a_body_node_whose_iteration_failed_is_failed_in_the_log_and_says_how_many(write_flow, run):
    """The row showed the last iteration's status: `success` for a node one of whose iterations
    failed (the foreach failed because of it)."""
    answers = {f"/i/{n}": n for n in (1, 2, 3)}
    with CountingServer(answers, fail_first={"/i/2": [400]}, delays={"/i/2": 0.3}) as server:
        path = write_flow(f"""
<foreach id="each" collection="[1, 2, 3]" item="n" concurrency="3">
  <source id="fmt" type="http" url="{server.url}/i/{{{{n}}}}"/>
</foreach>""")
        outcome = await run(path)
    assert outcome.status == "failed"
    assert outcome.result("fmt").status == "success"  # the state keeps the last iteration's result...
    rows = {line.split(" | ")[0][2:]: line[:-2].split(" | ") for line in path.read_text().splitlines()
            if line.startswith("| ")}
    assert rows["fmt"][1] == "failed"  # ...the log says what happened to the node
    assert rows["fmt"][3] == "Error: 1 of 3 executions failed: HTTP 400: Bad Request"
    assert rows["each"][1] == "failed"


def test_log_is_appended_after_any_markdown_and_keeps_crlf():
    document = "---\r\nname: x\r\n---\r\ntext\r\n<workflow></workflow>\r\nnotes"
    updated = with_log(document, "---\n\n## Execution Log\n\nbody\n")
    assert updated.startswith(document + "\r\n\r\n---\r\n\r\n## Execution Log")
    assert with_log(updated, "---\n\n## Execution Log\n\nnew\n").endswith("new\r\n")
    assert with_log(updated, "---\n\n## Execution Log\n\nnew\n").count("Execution Log") == 1


def test_journal_replays_over_the_snapshot_and_ignores_a_torn_line(tmp_path):
    path = tmp_path / "wf" / "run.json"
    store = StateStore(path, Redactor([]))
    state = RunState(workflow_id="wf", run_id="run", status="running")
    store.save(state)
    store.record("a", NodeResult(status="success", output=[1, 2]))
    store.record("b", NodeResult(status="failed"))
    with open(store.journal, "a") as journal:
        journal.write('{"key": "c", "result": {"stat')  # a kill in the middle of an append
    loaded = load_state(path)
    assert loaded.node_results["a"].output == [1, 2] and loaded.node_results["b"].status == "failed"
    assert "c" not in loaded.node_results


def test_outputs_load_back_exactly_from_journal_and_snapshot(tmp_path):
    output = {"big": 2**60 + 1, "third": 1 / 3, "whole": 2.0, "tiny": 1e-7, "text": "café \ud800 ok"}
    path = tmp_path / "wf" / "run.json"
    store = StateStore(path, Redactor([]))
    state = RunState(workflow_id="wf", run_id="run", status="running")
    store.save(state)
    result = NodeResult(status="success", output=output)
    store.record("a", result)
    from_journal = load_state(path).node_results["a"].output
    state.node_results["a"] = result
    store.save(state)  # the snapshot now holds it, the journal is gone
    assert not store.journal.exists()
    from_snapshot = load_state(path).node_results["a"].output
    for loaded in (from_journal, from_snapshot):
        assert loaded == output  # the lone surrogate too: the file holds its escape
        assert type(loaded["whole"]) is float and loaded["big"] == 2**60 + 1
    assert "café" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped


def test_the_journal_is_compacted_into_the_snapshot_only_once_it_is_long(tmp_path):
    """A wave's end rewrites the snapshot only once the journal is as long as the snapshot and
    past COMPACT_AFTER_BYTES: a run of ordinary size writes just its start and end snapshots."""
    path = tmp_path / "wf" / "run.json"
    store = StateStore(path, Redactor([]))
    state = RunState(workflow_id="wf", run_id="run", status="running")
    store.save(state)
    wave = 0
    while wave == 0 or store.journal.exists():
        result = NodeResult(status="success", output="x" * 4000)
        state.node_results[f"n{wave}"] = result
        store.record(f"n{wave}", result)
        state.current_wave = wave
        journal_bytes = store.journal.stat().st_size
        store.wave_finished(state)
        if wave == 10:
            assert json.loads(path.read_text())["nodeResults"] == {}  # ten waves: still the start snapshot
        wave += 1
    assert journal_bytes >= COMPACT_AFTER_BYTES > journal_bytes - 4100  # compacted at the threshold: the snapshot holds every result
    snapshot = json.loads(path.read_text())
    assert len(snapshot["nodeResults"]) == wave and snapshot["currentWave"] == wave - 1
    assert load_state(path).node_results.keys() == state.node_results.keys()


def test_a_run_state_prints_short_whatever_its_size():
    state = RunState(workflow_id="wf", run_id="run", node_results={
        f"each[{i}].fmt": NodeResult(status="success", output="x" * 100) for i in range(1000)})
    assert repr(state) == "RunState(workflow_id='wf', run_id='run', status='pending', node_results=<1000>)"


async def test_resume_reruns_only_what_did_not_succeed(write_flow, run, tmp_path):
    path = write_flow("""
<source id="one" type="http" url="http://127.0.0.1:9/one"/>
<source id="two" type="http" url="http://127.0.0.1:9/two"/>
<transform id="both" type="template"><template>{{one.output}}+{{two.output}}</template></transform>
<sink id="save" type="file" input="both" path="out/both.txt"/>""")
    with respx.mock:
        one = respx.get("http://127.0.0.1:9/one").mock(return_value=httpx.Response(200, json=1))
        two = respx.get("http://127.0.0.1:9/two").mock(side_effect=[httpx.Response(404), httpx.Response(200, json=2)])
        first = await run(path)
        assert first.status == "failed" and first.state.current_wave == 0
        saved = load_state(first.state_file)
        loaded = load_workflow(path)
        engine = Engine(loaded.plan, LocalBackend(interactive=False),
                        RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
        resumed = await engine.resume(saved, {})
    assert resumed.status == "completed"
    assert one.call_count == 1 and two.call_count == 2
    assert (tmp_path / "out" / "both.txt").read_text() == "1+2"
    final = json.loads(first.state_file.read_text())
    assert final["runId"] == first.state.run_id and final["status"] == "completed"


async def test_resume_of_a_failed_foreach_skips_the_iterations_that_succeeded(write_flow, run, tmp_path):
    path = write_flow("""
<transform id="ids" type="map" expression="[1, 2, 3]"/>
<foreach id="each" collection="ids.output" item="n">
  <source id="get" type="http" url="http://127.0.0.1:9/i/{{n}}"/>
</foreach>""")
    with respx.mock:
        route = respx.get(url__regex=r".*/i/\d").mock(side_effect=[
            httpx.Response(200, json=1), httpx.Response(200, json=2), httpx.Response(400),
            httpx.Response(200, json=3)])
        first = await run(path)
        assert first.status == "failed"
        engine = Engine(load_workflow(path).plan, LocalBackend(interactive=False),
                        RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
        try:
            resumed = await engine.resume(load_state(first.state_file), {})
        except RunFailed as e:  # pragma: no cover - shows the failure
            raise AssertionError(e.message) from e
    assert route.call_count == 4
    assert resumed.node_results["each"].output == [1, 2, 3]


async def test_resuming_a_completed_run_changes_nothing_and_is_no_error(write_flow, run, tmp_path):
    """docs/language.md#persistence-and-resume: resuming a completed run changes nothing, says so
    and exits 0 (a supervisor that resumes until success must be able to stop); it used to be
    refused as a usage error (exit 2)."""
    from flowscript.runtime.launch import check_resumable

    path = write_flow('<transform id="a" type="template"><template>x</template></transform>')
    first = await run(path)
    assert first.status == "completed"
    state = load_state(first.state_file)
    written = first.state_file.read_bytes(), path.read_bytes()
    answer = check_resumable(state, "a different file now", force=False)  # not refused, whatever changed
    assert answer == f"run {state.run_id} of test-flow completed at {state.completed_at}: nothing to resume, " \
                     "nothing changed"
    engine = Engine(load_workflow(path).plan, LocalBackend(interactive=False),
                    RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
    again = await engine.resume(state, {})
    assert again is state and again.status == "completed"
    assert (first.state_file.read_bytes(), path.read_bytes()) == written


async def test_a_kill_that_loses_a_waves_end_loses_no_finished_node(write_flow, run, tmp_path):
    """A wave's end goes out with the next write, not on its own (docs/language.md#persistence-and-resume):
    what a kill leaves holds every finished node, the wave number at most one behind, and
    the resume runs none of them again."""
    path = tmp_path / "wf" / "run.json"
    store = StateStore(path, Redactor([]))
    state = RunState(workflow_id="wf", run_id="run", status="running")
    store.save(state)
    for wave, key in enumerate(("a", "b")):
        store.record(key, NodeResult(status="success", output=key))
        state.current_wave = wave
        store.wave_finished(state)
    left = load_state(path)  # the journal as a kill now leaves it: the store is never closed
    assert left.node_results.keys() == {"a", "b"} and left.current_wave == 0
    store.close()
    assert load_state(path).current_wave == 1

    flow = write_flow("""
<source id="one" type="http" url="http://127.0.0.1:9/one"/>
<source id="two" type="http" url="http://127.0.0.1:9/two" input="one"/>
<transform id="both" type="template" input="two"><template>{{one.output}}+{{input}}</template></transform>""")
    with respx.mock:
        one = respx.get("http://127.0.0.1:9/one").mock(return_value=httpx.Response(200, json=1))
        two = respx.get("http://127.0.0.1:9/two").mock(return_value=httpx.Response(200, json=2))
        first = await run(flow)
        killed = load_state(first.state_file)
        del killed.node_results["both"]
        killed.status, killed.current_wave = "running", 0  # the end of waves 1 and 2 lost
        engine = Engine(load_workflow(flow).plan, LocalBackend(interactive=False),
                        RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
        resumed = await engine.resume(killed, {})
    assert resumed.status == "completed" and resumed.node_results["both"].output == "1+2"
    assert one.call_count == 1 and two.call_count == 1

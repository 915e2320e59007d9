"""One engine, two backends (docs/prefect.md): every example workflow, and a few failing ones,
run with the local backend and through Prefect must leave the same things behind.

What is compared, and the short list of what is ignored (run id, folder, timestamps and
durations, owner, backend name): see parity_support.py. A difference is a bug.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from example_world import AI_KEY, DEFAULT_BASE, EXAMPLES, USERS_TOKEN
from loopback import CountingServer
from parity_support import RUN_ID, RunOutcome, assert_same, run_local, run_prefect

from flowscript.runtime.persistence import load_state

pytestmark = pytest.mark.slow

# The same environment for both backends: the AI endpoint is the fake's, secrets from here.
ENV = {"FLOWSCRIPT_AI_BASE_URL": f"{DEFAULT_BASE}/v1", "OPENROUTER_API_KEY": AI_KEY, "USERS_API_TOKEN": USERS_TOKEN}
NAMES = sorted(p.name.removesuffix(".flow.md") for p in EXAMPLES.glob("*.flow.md"))
# Examples that start nodes at once whose bodies then interleave as their work allows: which
# started first is timing, so their logs' rows are compared in any order (see assert_same).
CONCURRENT_STARTS = {
    "conditional-routing",  # two <if>s in one wave
    "enrich-foreach",  # two foreachs in one wave, one of them 3 iterations at a time
    "parallel-merge",  # parallel branches
    "polling-loops",  # three loops in one wave
}


def requests_of(api) -> list[tuple]:
    """What a backend's run sent, in a stable order (a wave's requests are concurrent)."""
    return sorted((r.method, r.path, sorted(r.query.items()), repr(r.body),
                   sorted((k, v) for k, v in r.headers.items() if k != "content-length")) for r in api.requests)


def test_every_example_is_compared():
    assert len(NAMES) == 13 and CONCURRENT_STARTS.issubset(NAMES)


@pytest.mark.parametrize("name", NAMES)
async def test_example(name, world, copies):
    world.fresh()
    local = await run_local(copies("local") / f"{name}.flow.md", env=ENV)
    local_requests = requests_of(world.api)
    world.fresh()
    prefect = await run_prefect(copies("prefect") / f"{name}.flow.md", env=ENV)
    assert local.status == "completed", local.failure
    assert_same(local, prefect, concurrent_starts=name in CONCURRENT_STARTS)
    assert requests_of(world.api) == local_requests


# ------------------------------------------------------------------ failures
FRONTMATTER = "---\nname: parity\nversion: 1.0.0\n---\n\n# Parity\n\n"


def twins(tmp_path: Path, body: str) -> tuple[Path, Path]:
    """The same workflow file in two folders, one per backend."""
    text = FRONTMATTER + "<workflow>\n" + body.strip("\n") + "\n</workflow>\n"
    paths = []
    for label in ("local", "prefect"):
        (tmp_path / label).mkdir()
        path = tmp_path / label / "parity.flow.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def fresh(server: CountingServer, fail_first: dict[str, list[int]]) -> None:
    """The server as new for the next backend's run (the workflow names its URL, so both use it)."""
    server.fail_first = {path: list(statuses) for path, statuses in fail_first.items()}
    for counts in (server.received, server.committed, server.bodies, server.headers):
        counts.clear()


async def on_both(tmp_path: Path, server: CountingServer, body: str, *, fail_first: dict[str, list[int]] | None = None,
                  **options: Any) -> tuple[RunOutcome, RunOutcome, Counter[str], Counter[str]]:
    """Runs the workflow with each backend against a fresh server; returns both outcomes and
    the requests each run made, by path."""
    local_path, prefect_path = twins(tmp_path, body.replace("URL", server.url))
    fresh(server, fail_first or {})
    local = await run_local(local_path, **options)
    local_requests = Counter(server.received)
    fresh(server, fail_first or {})
    prefect = await run_prefect(prefect_path, **options)
    return local, prefect, local_requests, Counter(server.received)


async def test_retries_exhausted_then_fallback(tmp_path):
    with CountingServer({"/item/0": {"n": 0}, "/item/2": {"n": 2}}) as server:
        local, prefect, local_requests, prefect_requests = await on_both(tmp_path, server, """
<source id="live" type="http" url="URL/down"><on-error><retry max="2" base="1"/><fallback node="cache"/></on-error></source>
<transform id="cache" type="template"><template>cached after {{$primaryError}}</template></transform>
<foreach id="each" collection="range(0, 3)">
  <source id="item" type="http" url="URL/item/{{item}}">
    <on-error><retry max="1" base="1"/><fallback node="spare"/></on-error>
  </source>
</foreach>
<transform id="spare" type="map" expression="{n: -1, why: $primaryError}"/>
<sink id="save" type="file" input="live" path="out/live.txt"/>""",
            fail_first={"/down": [500] * 3, "/item/1": [503] * 2})
    snapshot = assert_same(local, prefect)
    assert local_requests == prefect_requests == Counter({"/down": 3, "/item/0": 1, "/item/1": 2, "/item/2": 1})
    assert local.status == "completed"
    live = snapshot.node_results["live"]
    assert (live["status"], live["attempts"], live["fellBackTo"]) == ("success", 3, "cache")
    assert live["output"] == "cached after HTTP 500: Internal Server Error"
    item = snapshot.node_results["each[1].item"]
    assert (item["attempts"], item["fellBackTo"], item["output"]) == (
        2, "spare", {"n": -1, "why": "HTTP 503: Service Unavailable"})
    assert "cache" not in snapshot.node_results and "spare" not in snapshot.node_results


async def test_a_failing_wave_reports_both_failures_and_stops(tmp_path):
    with CountingServer({"/ok": {"ok": True}}) as server:
        local, prefect, local_requests, prefect_requests = await on_both(tmp_path, server, """
<source id="gone" type="http" url="URL/gone"/>
<source id="broken" type="http" url="URL/broken"><on-error><retry max="1" base="1"/></on-error></source>
<source id="ok" type="http" url="URL/ok"/>
<transform id="later" type="template" input="ok"><template>{{input.ok}}</template></transform>""",
            fail_first={"/broken": [500] * 2})
    snapshot = assert_same(local, prefect)
    assert local_requests == prefect_requests == Counter({"/gone": 1, "/broken": 2, "/ok": 1})
    assert local.status == "failed"
    assert [(name, key) for name, key, _ in snapshot.failure["failures"]] == [("gone", "gone"), ("broken", "broken")]
    assert snapshot.failure["message"].startswith("2 nodes failed: ")
    assert [snapshot.node_results[k]["status"] for k in ("gone", "broken", "ok")] == ["failed", "failed", "success"]
    assert "later" not in snapshot.node_results
    assert [e["message"] for e in local.state.to_json_data()["errors"]] == [
        "HTTP 404: Not Found", "HTTP 500: Internal Server Error"]


async def test_a_rejected_checkpoint_cancels_the_run(tmp_path):
    with CountingServer({}) as server:
        local, prefect, _, _ = await on_both(tmp_path, server, """
<transform id="prep" type="template"><template>4 orders</template></transform>
<checkpoint id="gate" input="prep" prompt="Ship {{input}}?" default="reject"/>
<sink id="save" type="file" input="gate" path="out/shipped.txt"/>""")
    snapshot = assert_same(local, prefect)
    assert local.status == "cancelled" and local.failure.cancelled
    cancellation = snapshot.state_files[f".state/parity/{RUN_ID}.json"]["cancellation"]
    assert (cancellation["reason"], cancellation["checkpoint"], cancellation["action"]) == (
        "checkpoint rejected", "gate", "reject")
    assert snapshot.node_results["gate"]["output"]["action"] == "reject"
    assert "save" not in snapshot.node_results and snapshot.files == {}


async def test_a_run_timeout_stops_what_is_running(tmp_path):
    with CountingServer({"/fast": 1, "/slow": 2}, delays={"/slow": 3}) as server:
        local, prefect, local_requests, prefect_requests = await on_both(tmp_path, server, """
<source id="fast" type="http" url="URL/fast"/>
<source id="slow" type="http" url="URL/slow"/>
<transform id="after" type="template" input="slow"><template>{{input}}</template></transform>""", timeout_s=1.5)
    snapshot = assert_same(local, prefect)
    assert local_requests == prefect_requests == Counter({"/fast": 1, "/slow": 1})
    assert local.status == "failed" and snapshot.failure["code"] == "RUN_TIMEOUT"
    assert local.state.unfinished == prefect.state.unfinished == ["slow"]
    assert snapshot.node_results["slow"]["error"]["name"] == "Cancelled"
    assert snapshot.node_results["fast"]["status"] == "success" and "after" not in snapshot.node_results


async def test_a_resume_reruns_only_what_did_not_succeed(tmp_path):
    with CountingServer({"/a": {"n": 1}, "/b": {"n": 2}}) as server:
        body = """
<source id="a" type="http" url="URL/a"/>
<transform id="after-a" type="template" input="a"><template>{{input.n}}</template></transform>
<source id="b" type="http" input="after-a" url="URL/b?after={{input}}"/>
<sink id="save" type="file" input="b" path="out/b.json"/>"""
        local, prefect, local_requests, prefect_requests = await on_both(tmp_path, server, body,
                                                                          fail_first={"/b": [404]})
        assert_same(local, prefect)
        assert local.status == "failed" and local_requests == prefect_requests == Counter({"/a": 1, "/b": 1})
        # resume each from its state file, as `flowscript resume` does; /b answers now
        resumed: list[RunOutcome] = []
        requests: list[Counter[str]] = []
        for first, run in ((local, run_local), (prefect, run_prefect)):
            fresh(server, {})
            [state_file] = (first.folder / ".state" / "parity").glob("*.json")
            resumed.append(await run(first.folder / "parity.flow.md", resume=load_state(state_file)))
            requests.append(Counter(server.received))
    snapshot = assert_same(*resumed)
    assert requests[0] == requests[1] == Counter({"/b": 1})  # a and after-a were not run again
    assert [r.state.run_id for r in resumed] == [local.state.run_id, prefect.state.run_id]
    assert resumed[0].status == "completed" and json.loads(snapshot.files["out/b.json"]) == {"n": 2}
    assert {k: r["attempts"] for k, r in snapshot.node_results.items()} == {"a": 1, "after-a": 1, "b": 1, "save": 1}

"""The wave loop (docs/language.md#the-wave-loop): order, concurrency, fail-fast, timeout, error handler."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import respx

from flowscript.nodes.semaphore import FifoSemaphore


def tpl(node_id: str, template: str, input: str | None = None) -> str:
    attr = f' input="{input}"' if input else ""
    return f'<transform id="{node_id}" type="template"{attr}><template>{template}</template></transform>'


async def test_chain_passes_outputs_along(write_flow, run):
    path = write_flow(tpl("a", "A") + tpl("b", "{{input}}B", "a") + tpl("c", "{{input}}C+{{a.output}}", "b"))
    outcome = await run(path)
    assert outcome.status == "completed"
    assert outcome.output("c") == "ABC+A"
    assert outcome.state.current_wave == 2


async def test_concurrency_limit_is_honoured(write_flow, run):
    running = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return httpx.Response(200, json={"ok": True})

    body = "".join(f'<source id="s{i}" type="http" url="http://127.0.0.1:9/s{i}"/>' for i in range(12))
    with respx.mock:
        respx.get(url__regex=r"http://127\.0\.0\.1:9/s\d+").mock(side_effect=slow)
        outcome = await run(write_flow(body), max_concurrency=3)
    assert outcome.status == "completed"
    assert peak == 3


async def test_a_failing_wave_lets_its_other_nodes_finish_and_stops_later_waves(write_flow, run):
    body = ('<source id="bad1" type="file" path="missing-1.json"/>'
            '<source id="good" type="http" url="http://127.0.0.1:9/slow"/>'
            '<source id="bad2" type="file" path="missing-2.json"/>'
            + tpl("later", "{{good.output}}", "good"))

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json=1)

    with respx.mock:
        respx.get("http://127.0.0.1:9/slow").mock(side_effect=slow)
        outcome = await run(write_flow(body))
    assert outcome.status == "failed"
    assert outcome.result("good").status == "success"
    assert "later" not in outcome.state.node_results
    assert "bad1" in outcome.failure.message and "bad2" in outcome.failure.message
    assert {e.message.split("'")[0] for e in outcome.state.errors} and len(outcome.state.errors) == 2
    saved = outcome.saved()
    assert saved.status == "failed" and saved.node_results["bad1"].error.name == "FileError"


async def test_run_timeout_cancels_running_nodes_and_names_them(write_flow, run):
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    body = tpl("quick", "q") + '<source id="stuck" type="http" url="http://127.0.0.1:9/hang"/>'
    with respx.mock:
        respx.get("http://127.0.0.1:9/hang").mock(side_effect=hang)
        start = time.perf_counter()
        outcome = await run(write_flow(body), timeout_s=0.2)
    assert time.perf_counter() - start < 2
    assert outcome.status == "failed"
    assert outcome.failure.code == "RUN_TIMEOUT"
    assert outcome.state.unfinished == ["stuck"]
    assert outcome.result("stuck").status == "failed"
    assert outcome.result("quick").status == "success"


async def test_error_handler_is_called_and_its_failure_does_not_mask_the_run(write_flow, run):
    calls = []

    def handler(state, error):
        calls.append((state.status, error.message))
        raise RuntimeError("handler broke")

    outcome = await run(write_flow('<source id="gone" type="file" path="nope.json"/>'), error_handler=handler)
    assert outcome.status == "failed"
    assert calls and calls[0][0] == "failed" and "nope.json" in calls[0][1]
    assert any("handler broke" in w for w in outcome.engine.options.log_warnings)


async def test_state_file_is_written_and_round_trips(write_flow, run):
    outcome = await run(write_flow(tpl("a", "{{ {n: 3} }}") + tpl("b", "{{input}}!", "a")))
    saved = json.loads(outcome.state_file.read_text())
    assert saved["status"] == "completed" and saved["nodeResults"]["b"]["output"] == '{"n":3}!'
    assert saved["workflowSha256"] and saved["runId"] == outcome.state.run_id
    assert not list(outcome.state_file.parent.glob("*.tmp*")) and not list(outcome.state_file.parent.glob("*.jsonl"))


async def test_fifo_semaphore_grants_in_request_order():
    semaphore = FifoSemaphore(1)
    await semaphore.acquire()
    order: list[int] = []

    async def waiter(n: int) -> None:
        async with semaphore:
            order.append(n)

    tasks = [asyncio.create_task(waiter(n)) for n in range(5)]
    await asyncio.sleep(0)
    semaphore.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert semaphore.available == 1

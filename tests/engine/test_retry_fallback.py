"""Retries and fallback (docs/language.md#retries-and-fallback)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from flowscript.errors import HttpError
from flowscript.nodes.data import RetryPolicy
from flowscript.runtime.retry import RetrySettings, backoff_delay_s, is_retryable


async def test_retryable_answers_are_retried_until_success(write_flow, run):
    path = write_flow('<source id="flaky" type="http" url="http://127.0.0.1:9/f">'
                      '<on-error><retry max="2" base="1"/></on-error></source>')
    with respx.mock:
        route = respx.get("http://127.0.0.1:9/f").mock(side_effect=[
            httpx.Response(503, text="busy"), httpx.Response(500, json={}), httpx.Response(200, json={"ok": True})])
        outcome = await run(path)
    assert outcome.output("flaky") == {"ok": True}
    assert route.call_count == 3 and outcome.result("flaky").attempts == 3


async def test_non_retryable_fails_at_once_without_fallback(write_flow, run):
    path = write_flow('<source id="gone" type="http" url="http://127.0.0.1:9/g">'
                      '<on-error><retry max="3" base="1"/><fallback node="fb"/></on-error></source>'
                      '<transform id="fb" type="template"><template>fb</template></transform>')
    with respx.mock:
        route = respx.get("http://127.0.0.1:9/g").mock(return_value=httpx.Response(404, text="no"))
        outcome = await run(path)
    assert route.call_count == 1
    assert outcome.status == "failed" and outcome.result("gone").fell_back_to is None


async def test_fallback_runs_once_in_an_isolated_context(write_flow, run):
    path = write_flow("""
<source id="live" type="http" url="http://127.0.0.1:9/down">
  <on-error><retry max="1" base="1"/><fallback node="cache"/></on-error>
</source>
<transform id="cache" type="template"><template>{{$primaryError}} / {{$primaryInput}}</template></transform>
<transform id="after" type="template" input="live"><template>got {{input}} {{$primaryError}}</template></transform>""")
    with respx.mock:
        route = respx.get("http://127.0.0.1:9/down").mock(return_value=httpx.Response(500))
        outcome = await run(path, input="in", default_retry=RetrySettings(max_retries=5, backoff_base_ms=1))
    assert route.call_count == 2
    result = outcome.result("live")
    assert result.status == "success" and result.fell_back_to == "cache"
    assert result.output == "HTTP 500: Internal Server Error / in"
    assert outcome.output("after") == "got HTTP 500: Internal Server Error / in "  # no leak of $primaryError
    assert "cache" not in outcome.state.node_results  # it ran only as a fallback


async def test_a_failing_fallback_fails_the_node_with_its_error(write_flow, run):
    path = write_flow('<source id="live" type="http" url="http://127.0.0.1:9/down">'
                      '<on-error><retry max="0"/><fallback node="cache"/></on-error></source>'
                      '<source id="cache" type="file" path="no-cache.json"/>')
    with respx.mock:
        respx.get("http://127.0.0.1:9/down").mock(return_value=httpx.Response(503))
        outcome = await run(path)
    assert outcome.status == "failed"
    assert "no-cache.json" in outcome.result("live").error.message


async def test_attempt_timeout_cancels_the_request_and_is_retried(write_flow, run):
    calls = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(10)
        return httpx.Response(200)

    path = write_flow('<source id="slow" type="http" url="http://127.0.0.1:9/slow">'
                      '<on-error><retry max="1" base="1" timeout="50"/></on-error></source>')
    with respx.mock:
        respx.get("http://127.0.0.1:9/slow").mock(side_effect=hang)
        start = time.perf_counter()
        outcome = await run(path)
    assert time.perf_counter() - start < 1.5
    assert calls == 2
    assert outcome.result("slow").error.name == "NodeTimeoutError"


async def test_no_retry_runs_every_node_once(write_flow, run):
    path = write_flow('<source id="f" type="http" url="http://127.0.0.1:9/f"><on-error><retry max="3" base="1"/>'
                      '</on-error></source>')
    with respx.mock:
        route = respx.get("http://127.0.0.1:9/f").mock(return_value=httpx.Response(500))
        await run(path, retries_enabled=False)
    assert route.call_count == 1


def test_retryable_classification():
    assert is_retryable(HttpError(429, "Too Many Requests"))
    assert is_retryable(HttpError(502, "Bad Gateway"))
    assert not is_retryable(HttpError(404, "Not Found"))
    assert not is_retryable(ValueError("x"))
    assert not is_retryable(asyncio.CancelledError())


@pytest.mark.parametrize("k", range(8))
def test_full_jitter_bounds(k):
    settings = RetrySettings(backoff_base_ms=1000)
    delays = [backoff_delay_s(k, settings) for _ in range(300)]
    cap = min(32.0, 2 ** k)
    assert all(0 <= d <= cap for d in delays)
    assert max(delays) > cap * 0.7  # really spread over the range, not a constant


def test_fixed_backoff_and_retry_after():
    fixed = RetrySettings.from_policy(RetryPolicy(backoff="fixed", backoff_base_ms=250))
    assert backoff_delay_s(5, fixed) == 0.25
    error = HttpError(429, "Too Many Requests", retry_after=7)
    assert backoff_delay_s(0, RetrySettings(), error) == 7
    assert backoff_delay_s(0, RetrySettings(), HttpError(503, "x", retry_after=500)) == 32.0


def test_policy_defaults():
    settings = RetrySettings.from_policy(RetryPolicy())
    assert (settings.max_retries, settings.backoff_base_ms, settings.timeout_ms) == (3, 1000, 30000)

"""The shared conformance cases' stub answers replayed through the runtimes (no engine).

Each test takes the answers from the case's case.json and checks the runtime output
against the case's expected/ files, so a runtime regression shows up here before the
end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from flowscript.errors import FileError, HttpError
from flowscript.expressions import to_json
from flowscript.nodes.io.ai import ai_transform
from flowscript.nodes.io.files import read_file_source, write_file_sink
from flowscript.nodes.io.http import http_sink, http_source

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
BASE = "http://127.0.0.1:9"
Mock = respx.MockRouter
Client = httpx.AsyncClient
pytestmark = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="shared conformance cases not present")


def case(name: str) -> dict[str, Any]:
    return json.loads((CONFORMANCE / name / "case.json").read_text())


def answer(stub: dict[str, Any]) -> httpx.Response:
    if "json" in stub:
        return httpx.Response(stub["status"], json=stub["json"], headers=stub.get("headers"))
    return httpx.Response(stub["status"], text=stub.get("text", ""), headers=stub.get("headers"))


def expected(name: str, path: str) -> Any:
    text = (CONFORMANCE / name / "expected" / path).read_text()
    return json.loads(text) if path.endswith(".json") else text.removesuffix("\n")


async def test_04_http_source(respx_mock: Mock, client: Client) -> None:
    stub = case("04-http-source")["stub"]
    respx_mock.get(f"{BASE}/users").mock(return_value=answer(stub["/users"][0]))
    respx_mock.get(f"{BASE}/motd").mock(return_value=answer(stub["/motd"][0]))
    names = await http_source({"extract": "[*].name", "method": "GET", "url": f"{BASE}/users"}, client=client)
    assert names == expected("04-http-source", "out/names.json")
    motd = await http_source({"method": "GET", "url": f"{BASE}/motd"}, client=client)
    assert motd.upper() == expected("04-http-source", "out/motd.txt")


async def test_05_http_sink(respx_mock: Mock, client: Client, tmp_path: Path) -> None:
    spec = case("05-http-sink-post")
    route = respx_mock.post(f"{BASE}/ingest").mock(return_value=answer(spec["stub"]["/ingest"][0]))
    orders = await read_file_source({"path": "./data/orders.json"}, workdir=CONFORMANCE / "05-http-sink-post")
    out = await http_sink(orders, {"method": "POST", "url": f"{BASE}/ingest"}, client=client)
    assert f"status={out['status']}" == expected("05-http-sink-post", "out/status.txt")
    assert [json.loads(c.request.content) for c in route.calls] == spec["stub_bodies"]["/ingest"]


async def test_13_retryable_answers_then_success(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.get(f"{BASE}/flaky")
    route.side_effect = [answer(s) for s in case("13-retry-then-success")["stub"]["/flaky"]]
    for _ in range(2):
        with pytest.raises(HttpError) as info:
            await http_source({"method": "GET", "url": f"{BASE}/flaky"}, client=client)
        assert info.value.retryable
    assert await http_source({"url": f"{BASE}/flaky"}, client=client) == expected(
        "13-retry-then-success", "out/flaky.json")


async def test_19_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        await read_file_source({"path": "./data/does-not-exist.json"}, workdir=tmp_path)
    assert "does-not-exist.json" in info.value.render()


async def test_22_ai_transform(respx_mock: Mock, client: Client, tmp_path: Path) -> None:
    spec = case("22-ai-transform")
    route = respx_mock.post(f"{BASE}/v1/chat/completions").mock(
        return_value=answer(spec["stub"]["/v1/chat/completions"][0]))
    doc = await read_file_source({"path": "./data/doc.json"}, workdir=CONFORMANCE / "22-ai-transform")
    config = {"model": "test/model", "base-url": f"{BASE}/v1", "system": "You summarise short texts.",
              "user": f"Summarise this text. {doc['text']}",
              "output-schema": "{summary: string, score: number, tags: string[]}"}
    result = await ai_transform(config, doc, client=client, secrets=spec["env"], env={})
    assert result.output == expected("22-ai-transform", "out/summary.json")
    assert result.usage == {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30, "requests": 1}
    assert route.call_count == spec["stub_calls"]["/v1/chat/completions"]
    await write_file_sink(result.output, {"path": "out/summary.json"}, workdir=tmp_path, to_json=to_json)
    assert (tmp_path / "out/summary.json").read_text() == (
        CONFORMANCE / "22-ai-transform/expected/out/summary.json").read_text()

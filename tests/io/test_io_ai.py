"""The ai transform against a respx-mocked OpenAI-compatible endpoint."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from flowscript.errors import AIError, NodeError
from flowscript.nodes.io.ai import AIResult, ai_transform

BASE = "http://ai.test/v1"
URL = f"{BASE}/chat/completions"
KEY = "sk-test-secret-key"
SECRETS = {"OPENROUTER_API_KEY": KEY}
SCHEMA = "{summary: string, score: number, tags: string[]}"
Mock = respx.MockRouter
Client = httpx.AsyncClient


def completion(content: Any = None, *, tool_args: Any = None, usage: dict[str, int] | None = None,
               finish_reason: str = "stop") -> dict[str, Any]:
    """A chat-completions answer body, as an OpenAI-compatible endpoint sends it."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_args is not None:
        arguments = tool_args if isinstance(tool_args, str) else json.dumps(tool_args)
        message["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": "respond", "arguments": arguments}}]
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
            "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    return json.loads(route.calls[index].request.content)


async def run(client: httpx.AsyncClient, input: Any = None, *, secrets: dict[str, str] | None = None,
              env: dict[str, str] | None = None, **config: Any) -> AIResult:
    config.setdefault("model", "test/model")
    config.setdefault("base-url", BASE)
    return await ai_transform(config, input, client=client, secrets=SECRETS if secrets is None else secrets,
                              env=env or {})


async def test_plain_text_answer(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("Hello there."))
    result = await run(client, system="Be brief.", user="Say hello",
                       **{"max-tokens": "50", "temperature": 0.2})
    assert result.output == "Hello there."
    body = sent(route)
    assert body == {"model": "test/model", "max_tokens": 50, "temperature": 0.2, "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]}
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"


async def test_json_text_answer_is_parsed(respx_mock: Mock, client: Client) -> None:
    respx_mock.post(URL).respond(200, json=completion(' {"a": [1, 2]}\n'))
    assert (await run(client, user="x")).output == {"a": [1, 2]}


async def test_fenced_json_answer_is_parsed_other_text_is_kept(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL)
    route.side_effect = [httpx.Response(200, json=completion('```json\n{"a": 1}\n```')),
                         httpx.Response(200, json=completion("not {json}")),
                         httpx.Response(200, json=completion([{"type": "text", "text": "[1,"},
                                                              {"type": "text", "text": "2]"}]))]
    assert (await run(client, user="x")).output == {"a": 1}
    assert (await run(client, user="x")).output == "not {json}"
    assert (await run(client, user="x")).output == [1, 2]


async def test_user_defaults_to_the_input_as_json(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("ok"))
    await run(client, {"text": "hi", "n": 2.0})
    assert sent(route)["messages"] == [{"role": "user", "content": '{"text":"hi","n":2}'}]


async def test_schema_answer_via_forced_tool_call(respx_mock: Mock, client: Client) -> None:
    answer = {"summary": "A short text.", "score": 7, "tags": ["short", "text"]}
    body = completion(None, tool_args=answer, finish_reason="tool_calls")
    route = respx_mock.post(URL).respond(200, json=body)
    result = await run(client, user="Summarise", **{"output-schema": SCHEMA})
    assert result.output == answer
    body = sent(route)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "respond"}}
    [tool] = body["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == "respond"
    assert tool["function"]["parameters"] == {
        "type": "object", "additionalProperties": False, "required": ["summary", "score", "tags"],
        "properties": {"summary": {"type": "string"}, "score": {"type": "number"},
                       "tags": {"type": "array", "items": {"type": "string"}}}}


async def test_schema_as_a_mapping_and_non_object_schema(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL)
    route.side_effect = [httpx.Response(200, json=completion(tool_args={"n": 1})),
                         httpx.Response(200, json=completion(tool_args={"value": ["a", "b"]}))]
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert (await run(client, user="x", **{"output-schema": schema})).output == {"n": 1}
    assert sent(route, 0)["tools"][0]["function"]["parameters"] == schema
    assert (await run(client, user="x", **{"output-schema": "string[]"})).output == ["a", "b"]
    assert sent(route, 1)["tools"][0]["function"]["parameters"]["properties"]["value"] == {
        "type": "array", "items": {"type": "string"}}


async def test_invalid_then_valid_structured_answer(respx_mock: Mock, client: Client) -> None:
    good = {"summary": "ok", "score": 3, "tags": []}
    route = respx_mock.post(URL)
    bad = {"summary": "ok", "score": "high", "tags": []}
    route.side_effect = [
        httpx.Response(200, json=completion(tool_args=bad, usage={
            "prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30})),
        httpx.Response(200, json=completion(tool_args=good, usage={
            "prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48})),
    ]
    result = await run(client, system="sys", user="Summarise", **{"output-schema": SCHEMA})
    assert result.output == good
    assert route.call_count == 2
    first, second = sent(route, 0)["messages"], sent(route, 1)["messages"]
    assert second[:2] == first == [{"role": "system", "content": "sys"},
                                   {"role": "user", "content": "Summarise"}]
    reask = second[2]
    assert reask["role"] == "user" and "at $.score: 'high' is not of type 'number'" in reask["content"]
    assert '"score": "high"' in reask["content"]
    assert result.usage == {"prompt_tokens": 60, "completion_tokens": 18, "total_tokens": 78, "requests": 2}


@pytest.mark.parametrize(("answer", "problem"), [
    (completion("plain text, no tool"), "did not call the `respond` tool"),
    (completion(tool_args='{"summary": "x", '), "arguments are not valid JSON"),
    (completion(tool_args={"summary": "x", "score": 1, "tags": [], "extra": 1}),
     "Additional properties are not allowed"),
    (completion(tool_args='{"summary": "x"', finish_reason="length"), "cut off"),
])
async def test_exhausted_reasks_fail_with_the_last_problem(respx_mock: Mock, client: httpx.AsyncClient,
                                                           answer: dict[str, Any], problem: str) -> None:
    route = respx_mock.post(URL).respond(200, json=answer)
    with pytest.raises(AIError) as info:
        await run(client, user="x", **{"output-schema": SCHEMA, "max-retries": "2"})
    assert route.call_count == 3
    assert not info.value.retryable and info.value.code == "RUN_AI_ERROR"
    assert "after 3 attempt(s)" in info.value.message and problem in info.value.message
    assert problem in sent(route, 2)["messages"][-1]["content"]


async def test_default_reasks_is_three_and_zero_means_one_request(respx_mock: Mock,
                                                                  client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("no tool"))
    with pytest.raises(AIError):
        await run(client, user="x", **{"output-schema": SCHEMA})
    assert route.call_count == 4
    with pytest.raises(AIError):
        await run(client, user="x", **{"output-schema": SCHEMA, "max-retries": 0})
    assert route.call_count == 5


@pytest.mark.parametrize(("status", "headers", "retry_after"), [
    (429, {"Retry-After": "12"}, 12.0), (503, {"Retry-After": "3"}, 3.0), (500, {}, None), (502, {}, None),
])
async def test_rate_limits_and_server_errors_are_retryable(
        respx_mock: Mock, client: Client, status: int, headers: dict[str, str],
        retry_after: float | None) -> None:
    respx_mock.post(URL).respond(status, json={"error": {"message": "slow down"}}, headers=headers)
    with pytest.raises(AIError) as info:
        await run(client, user="x")
    assert info.value.retryable and info.value.retry_after == retry_after
    assert f"HTTP {status}" in info.value.message and "slow down" in info.value.message


async def test_401_is_not_retryable_and_never_shows_the_key(respx_mock: Mock, client: Client) -> None:
    respx_mock.post(URL).respond(401, json={"error": {"message": f"Invalid API key {KEY}", "code": 401}})
    with pytest.raises(AIError) as info:
        await run(client, user="x")
    e = info.value
    assert not e.retryable
    assert e.message.startswith("AI endpoint answered HTTP 401 Unauthorized: Invalid API key")
    assert KEY not in e.render() and "***" in e.message


async def test_400_text_body(respx_mock: Mock, client: Client) -> None:
    respx_mock.post(URL).respond(400, text="model not found")
    with pytest.raises(AIError, match="HTTP 400 Bad Request: model not found") as info:
        await run(client, user="x")
    assert not info.value.retryable


async def test_error_inside_a_200_answer(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL)
    route.side_effect = [httpx.Response(200, json={"error": {"message": "upstream overloaded", "code": 502}}),
                         httpx.Response(200, json={"error": {"message": "bad model", "code": 400}}),
                         httpx.Response(200, json={"choices": []})]
    with pytest.raises(AIError, match="upstream overloaded") as info:
        await run(client, user="x")
    assert info.value.retryable
    with pytest.raises(AIError, match="bad model") as info:
        await run(client, user="x")
    assert not info.value.retryable
    with pytest.raises(AIError, match="without a choice"):
        await run(client, user="x")


async def test_a_timeout_is_retryable_a_refused_connection_is_not(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL)
    route.side_effect = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")]
    with pytest.raises(AIError, match="no answer within 120 s") as info:
        await run(client, user="x")
    assert info.value.retryable
    with pytest.raises(AIError, match="connection failed") as info:
        await run(client, user="x")
    # not retried: docs/language.md#retries-and-fallback, "anything else"
    assert not info.value.retryable and KEY not in info.value.render()


async def test_missing_api_key(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("x"))
    with pytest.raises(AIError) as info:
        await run(client, user="x", secrets={}, env={"OPENROUTER_API_KEY": KEY})
    assert not info.value.retryable and "OPENROUTER_API_KEY" in info.value.message
    with pytest.raises(AIError, match="MY_KEY"):
        await run(client, user="x", **{"api-key-secret": "MY_KEY"})
    assert not route.called


async def test_key_is_trimmed_and_checked(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("x"))
    await run(client, user="x", secrets={"OPENROUTER_API_KEY": f"{KEY}\n"})
    assert route.calls.last.request.headers["authorization"] == f"Bearer {KEY}"
    with pytest.raises(AIError, match="does not hold an API key") as info:
        await run(client, user="x", secrets={"OPENROUTER_API_KEY": "sk-ké y"})
    assert "sk-" not in info.value.render() and route.call_count == 1


async def test_configured_key_secret(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("x"))
    await run(client, user="x", secrets={"MY_KEY": "other-key"}, **{"api-key-secret": "MY_KEY"})
    assert route.calls.last.request.headers["authorization"] == "Bearer other-key"


async def test_base_url_from_config_then_env_then_openrouter(respx_mock: Mock, client: Client) -> None:
    config_route = respx_mock.post("http://cfg.test/v1/chat/completions").respond(200, json=completion("c"))
    env_route = respx_mock.post("http://env.test/api/chat/completions").respond(200, json=completion("e"))
    default_route = respx_mock.post("https://openrouter.ai/api/v1/chat/completions").respond(
        200, json=completion("d"))
    env = {"FLOWSCRIPT_AI_BASE_URL": "http://env.test/api/"}
    assert (await run(client, user="x", env=env, **{"base-url": "http://cfg.test/v1"})).output == "c"
    assert (await ai_transform({"model": "m", "user": "x"}, None, client=client, secrets=SECRETS,
                               env=env)).output == "e"
    assert (await ai_transform({"model": "m", "user": "x"}, None, client=client, secrets=SECRETS,
                               env={})).output == "d"
    assert (config_route.call_count, env_route.call_count, default_route.call_count) == (1, 1, 1)


async def test_base_url_that_already_names_the_endpoint(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(URL).respond(200, json=completion("x"))
    await run(client, user="x", **{"base-url": URL})
    assert route.called


async def test_usage_summed_and_missing_usage_tolerated(respx_mock: Mock, client: Client) -> None:
    body = completion(tool_args={"summary": "s", "score": 1, "tags": []})
    del body["usage"]
    respx_mock.post(URL).respond(200, json=body)
    result = await run(client, user="x", **{"output-schema": SCHEMA})
    assert result.usage == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "requests": 1}


@pytest.mark.parametrize(("config", "entry"), [
    ({"model": ""}, "model"),
    ({"output-schema": "{a: strng}"}, "output-schema"),
    ({"output-schema": {"type": "nope"}}, "output-schema"),
    ({"max-tokens": "lots"}, "max-tokens"),
    ({"max-retries": -1}, "max-retries"),
    ({"base-url": "not a url"}, "base-url"),
])
async def test_config_errors_fail_before_any_request(respx_mock: Mock, client: httpx.AsyncClient,
                                                     config: dict[str, Any], entry: str) -> None:
    route = respx_mock.post(url__regex=".*").respond(200, json=completion("x"))
    with pytest.raises(NodeError) as info:
        await run(client, user="x", **config)
    assert info.value.code == "RUN_INVALID_CONFIG" and info.value.message.startswith(f"{entry}:")
    assert not route.called

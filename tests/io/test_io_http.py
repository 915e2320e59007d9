"""The http source and sink against respx mocks: requests built, answers classified."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from flowscript.errors import HttpError, NodeError, NodeTimeoutError, TransportError
from flowscript.nodes.io.http import http_sink, http_source
from flowscript.nodes.io.http_response import parse_retry_after

API = "https://api.test"
Mock = respx.MockRouter
Client = httpx.AsyncClient


def last(route: respx.Route) -> httpx.Request:
    return route.calls.last.request


# ------------------------------------------------------------------------- source: requests


async def test_get_by_default_json_parsed(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.get(f"{API}/users").respond(200, json=[{"id": 1, "name": "ada"}])
    assert await http_source({"url": f"{API}/users"}, client=client) == [{"id": 1, "name": "ada"}]
    assert route.call_count == 1 and last(route).method == "GET"
    assert last(route).content == b""


@pytest.mark.parametrize("method", ["POST", "put", "Delete", "PATCH", "GET"])
async def test_each_method(respx_mock: Mock, client: Client, method: str) -> None:
    route = respx_mock.route(method=method.upper(), url=f"{API}/x").respond(200, json={"ok": 1})
    assert await http_source({"url": f"{API}/x", "method": method}, client=client) == {"ok": 1}
    assert route.called


async def test_unknown_method_is_a_config_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(NodeError) as info:
        await http_source({"url": f"{API}/x", "method": "FETCH"}, client=client)
    assert info.value.code == "RUN_INVALID_CONFIG" and "method" in info.value.message
    assert not info.value.retryable


async def test_headers_and_params(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.get(url__startswith=f"{API}/search").respond(200, text="ok")
    await http_source({"url": f"{API}/search?fixed=1",
                       "headers": {"X-Trace": "abc", "X-Count": 3, "X-Skip": None},
                       "params": {"q": "a b", "n": 3.0, "flag": True, "tag": ["x", "y"], "none": None}},
                      client=client)
    request = last(route)
    assert request.headers["x-trace"] == "abc" and request.headers["x-count"] == "3"
    assert "x-skip" not in request.headers
    assert request.url.params.multi_items() == [("fixed", "1"), ("q", "a b"), ("n", "3"), ("flag", "true"),
                                                ("tag", "x"), ("tag", "y")]


async def test_params_as_query_string(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.get(url__startswith=f"{API}/s").respond(200, text="ok")
    await http_source({"url": f"{API}/s", "params": "?a=1&b=2"}, client=client)
    assert dict(last(route).url.params) == {"a": "1", "b": "2"}


async def test_json_body_for_mappings_and_lists(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(f"{API}/in").respond(200, json={})
    await http_source({"url": f"{API}/in", "method": "POST", "body": {"a": 1.0, "b": [True, None]}},
                      client=client)
    assert last(route).headers["content-type"] == "application/json"
    assert last(route).content == b'{"a":1,"b":[true,null]}'
    await http_source({"url": f"{API}/in", "method": "POST", "body": [1, 2]}, client=client)
    assert json.loads(last(route).content) == [1, 2]


async def test_text_body_for_strings(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.put(f"{API}/in").respond(200, json={})
    await http_source({"url": f"{API}/in", "method": "PUT", "body": "héllo"}, client=client)
    assert last(route).headers["content-type"] == "text/plain; charset=utf-8"
    assert last(route).content == "héllo".encode()


async def test_explicit_content_type_is_kept(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.post(f"{API}/in").respond(200, json={})
    await http_source({"url": f"{API}/in", "method": "POST", "body": "a=1",
                       "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, client=client)
    assert last(route).headers.get_list("content-type") == ["application/x-www-form-urlencoded"]


@pytest.mark.parametrize(("auth", "expected"), [
    ({"type": "bearer", "token": "tok123"}, "Bearer tok123"),
    ({"token": "tok123"}, "Bearer tok123"),
    ("Bearer tok123", "Bearer tok123"),
    ("tok123", "Bearer tok123"),
    ({"type": "basic", "username": "ada", "password": "pw:1"},
     "Basic " + base64.b64encode(b"ada:pw:1").decode()),
    ({"type": "Basic", "user": "ada", "password": "x"}, "Basic " + base64.b64encode(b"ada:x").decode()),
])
async def test_auth(respx_mock: Mock, client: Client, auth: Any, expected: str) -> None:
    route = respx_mock.get(f"{API}/me").respond(200, json={})
    await http_source({"url": f"{API}/me", "auth": auth, "headers": {"authorization": "old"}}, client=client)
    assert last(route).headers.get_list("authorization") == [expected]


@pytest.mark.parametrize("auth", [{"type": "oauth9", "token": "sekrit-token"}, {"type": "bearer"},
                                  {"type": "basic", "password": "sekrit-token"}, ["sekrit-token"]])
async def test_bad_auth_is_a_config_error_without_the_secret(client: httpx.AsyncClient, auth: Any) -> None:
    with pytest.raises(NodeError) as info:
        await http_source({"url": f"{API}/me", "auth": auth}, client=client)
    assert info.value.code == "RUN_INVALID_CONFIG" and info.value.message.startswith("auth:")
    assert "sekrit" not in info.value.render()


@pytest.mark.parametrize(("headers", "problem"), [
    ({"X-Bad Name": "v"}, "not a valid header name"),
    ({"X-Inject": "secret-value\r\nX-Other: 1"}, "line break"),
    ("X-A: 1", "expected a mapping"),
])
async def test_bad_headers(client: httpx.AsyncClient, headers: Any, problem: str) -> None:
    with pytest.raises(NodeError, match=problem) as info:
        await http_source({"url": f"{API}/x", "headers": headers}, client=client)
    assert "secret-value" not in info.value.render()


@pytest.mark.parametrize("url", ["api.test/x", "ftp://api.test/x", "", "http://"])
async def test_bad_url_is_a_config_error(client: httpx.AsyncClient, url: str) -> None:
    with pytest.raises(NodeError) as info:
        await http_source({"url": url}, client=client)
    assert info.value.code == "RUN_INVALID_CONFIG" and not info.value.retryable


async def test_timeout_config_in_milliseconds(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.get(f"{API}/t").respond(200, json={})
    await http_source({"url": f"{API}/t", "timeout": "2500"}, client=client)
    assert last(route).extensions["timeout"]["read"] == 2.5
    await http_source({"url": f"{API}/t"}, client=client)
    assert last(route).extensions["timeout"]["read"] == 30.0
    with pytest.raises(NodeError, match="timeout"):
        await http_source({"url": f"{API}/t", "timeout": "soon"}, client=client)


# ------------------------------------------------------------------------- source: answers


async def test_text_answer_stays_text(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(f"{API}/motd").respond(200, text="all systems go")
    assert await http_source({"url": f"{API}/motd"}, client=client) == "all systems go"
    respx_mock.get(f"{API}/looks-json").respond(200, text='{"a": 1}', headers={"content-type": "text/plain"})
    assert await http_source({"url": f"{API}/looks-json"}, client=client) == '{"a": 1}'


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/problem+json",
                                          "text/json"])
async def test_json_like_content_types_are_parsed(respx_mock: Mock, client: Client,
                                                  content_type: str) -> None:
    respx_mock.get(f"{API}/j").respond(200, content=b'{"a": [1]}', headers={"content-type": content_type})
    assert await http_source({"url": f"{API}/j"}, client=client) == {"a": [1]}


async def test_json_type_with_bad_or_empty_body(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(f"{API}/bad").respond(200, content=b"<html>oops",
                                         headers={"content-type": "application/json"})
    assert await http_source({"url": f"{API}/bad"}, client=client) == "<html>oops"
    respx_mock.get(f"{API}/empty").respond(204, headers={"content-type": "application/json"})
    assert await http_source({"url": f"{API}/empty"}, client=client) is None


async def test_jmespath_extract(respx_mock: Mock, client: Client) -> None:
    people = [{"name": "ada", "age": 36}, {"name": "bob", "age": 7}]
    respx_mock.get(f"{API}/users").respond(200, json={"data": people})
    names = await http_source({"url": f"{API}/users", "extract": "data[*].name"}, client=client)
    assert names == ["ada", "bob"]
    assert await http_source({"url": f"{API}/users", "extract": "data[?age > `10`].name | [0]"},
                             client=client) == "ada"
    assert await http_source({"url": f"{API}/users", "extract": "missing.key"}, client=client) is None


@pytest.mark.parametrize(
    ("extract", "expected"),
    [
        ("$.data[*]", [{"name": "ada", "age": 36}, {"name": "bob", "age": 7}]),  # `$` is the root
        ("$.data[*].name", ["ada", "bob"]),
        ("data[?age > `10`].name | $.data[0].name", "ada"),  # `$` inside a pipe is still the root
        ("let $min = `10` in data[?age > $min].name", ["ada"]),
        ("items($.meta)", [["page", 1]]),
        ("group_by(data, &to_string(age > `10`))", {"true": [{"name": "ada", "age": 36}],
                                                     "false": [{"name": "bob", "age": 7}]}),
        ("data[*].upper(name)", ["ADA", "BOB"]),
        ("find_first('abc', 'c')", 2),
    ],
)
async def test_extracts_are_jmespath_community(respx_mock: Mock, client: Client, extract: str, expected: Any) -> None:
    """The reference evaluates extracts with JMESPath Community: every extract it accepts works here."""
    people = [{"name": "ada", "age": 36}, {"name": "bob", "age": 7}]
    respx_mock.get(f"{API}/users").respond(200, json={"data": people, "meta": {"page": 1}})
    got = await http_source({"url": f"{API}/users", "extract": extract}, client=client)
    assert got == expected and type(got) is type(expected)


async def test_bad_jmespath_fails_before_any_request(respx_mock: respx.MockRouter,
                                                     client: Client) -> None:
    route = respx_mock.get(f"{API}/users").respond(200, json=[])
    with pytest.raises(NodeError) as info:
        await http_source({"url": f"{API}/users", "extract": "[*].name[["}, client=client)
    assert info.value.code == "RUN_INVALID_CONFIG"
    assert "invalid JMESPath expression '[*].name[['" in info.value.message and "column" in info.value.message
    assert not route.called


async def test_jmespath_failing_on_the_data(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(f"{API}/n").respond(200, json={"n": 5})
    with pytest.raises(NodeError) as info:
        await http_source({"url": f"{API}/n", "extract": "length(n)"}, client=client)
    assert info.value.code == "RUN_EXTRACT_ERROR" and not info.value.retryable


async def test_404_is_not_retryable(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(url__startswith=f"{API}/nope").respond(404, json={"error": "no such thing"})
    with pytest.raises(HttpError) as info:
        await http_source({"url": f"{API}/nope?api_key=sekrit"}, client=client)
    e = info.value
    assert (e.status, e.status_text, e.body, e.retryable, e.retry_after) == (
        404, "Not Found", {"error": "no such thing"}, False, None)
    assert e.message == "HTTP 404: Not Found" and e.code == "RUN_HTTP_ERROR"
    assert e.url == f"{API}/nope"  # no query string: it may hold a secret


async def test_500_is_retryable_without_retry_after(respx_mock: respx.MockRouter,
                                                    client: httpx.AsyncClient) -> None:
    respx_mock.get(f"{API}/e").respond(500, text="boom", headers={"Retry-After": "5"})
    with pytest.raises(HttpError) as info:
        await http_source({"url": f"{API}/e"}, client=client)
    assert info.value.retryable and info.value.retry_after is None
    assert info.value.body == "boom" and info.value.message == "HTTP 500: Internal Server Error"


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds(respx_mock: Mock, client: Client, status: int) -> None:
    respx_mock.get(f"{API}/busy").respond(status, text="busy", headers={"Retry-After": "7"})
    with pytest.raises(HttpError) as info:
        await http_source({"url": f"{API}/busy"}, client=client)
    assert info.value.retryable and info.value.retry_after == 7.0 and info.value.status == status


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_http_date(respx_mock: Mock, client: Client, status: int) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    respx_mock.get(f"{API}/busy").respond(status, headers={"Retry-After": when})
    with pytest.raises(HttpError) as info:
        await http_source({"url": f"{API}/busy"}, client=client)
    assert info.value.retryable
    assert info.value.retry_after is not None and 115 <= info.value.retry_after <= 120


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:45 GMT", now=now) == 45.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3", now=now) == 0.0
    for bad in (None, "", "soon", "inf", "nan"):
        assert parse_retry_after(bad, now=now) is None


async def test_timeout_is_a_node_timeout(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(url__startswith=f"{API}/slow").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(NodeTimeoutError) as info:
        await http_source({"url": f"{API}/slow?token=sekrit", "timeout": 1500,
                           "headers": {"X-Key": "sekrit"}}, client=client)
    assert info.value.retryable and info.value.code == "RUN_TIMEOUT"
    assert info.value.message == f"GET {API}/slow: no answer within 1.5 s"


async def test_connection_error_is_a_transport_error_that_is_not_retried(respx_mock: respx.MockRouter,
                                                               client: Client) -> None:
    respx_mock.get(url__startswith=f"{API}/down").mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(TransportError) as info:
        await http_source({"url": f"{API}/down?key=sekrit", "auth": "Bearer sekrit"}, client=client)
    # a lost connection is not retried (docs/language.md#retries-and-fallback)
    assert not info.value.retryable and info.value.code == "RUN_TRANSPORT_ERROR"
    assert "Connection refused" in info.value.message and "sekrit" not in info.value.render()


async def test_remote_protocol_error_is_a_transport_error(respx_mock: Mock, client: Client) -> None:
    respx_mock.get(f"{API}/reset").mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(TransportError):
        await http_source({"url": f"{API}/reset"}, client=client)


async def test_error_messages_never_hold_header_or_token_values(respx_mock: respx.MockRouter,
                                                                client: Client) -> None:
    respx_mock.get(f"{API}/private").respond(401, json={"error": "bad token"})
    with pytest.raises(HttpError) as info:
        await http_source({"url": f"{API}/private", "auth": {"type": "bearer", "token": "sekrit-token"},
                           "headers": {"X-Api-Key": "sekrit-key"}}, client=client)
    assert "sekrit" not in info.value.render() and not info.value.retryable


# ------------------------------------------------------------------------- sink


async def test_sink_posts_input_as_json_and_outputs_status(respx_mock: respx.MockRouter,
                                                           client: Client) -> None:
    route = respx_mock.post(f"{API}/ingest").respond(201, json={"accepted": 2},
                                                     headers={"X-Request-Id": "r1"})
    orders = [{"id": 1, "total": 9.5}, {"id": 2, "total": 20.0}]
    out = await http_sink(orders, {"url": f"{API}/ingest"}, client=client)
    assert out["status"] == 201 and out["statusText"] == "Created"
    assert out["headers"]["x-request-id"] == "r1"
    assert out["headers"]["content-type"] == "application/json"
    assert all(k == k.lower() for k in out["headers"]) and set(out) == {"status", "statusText", "headers"}
    assert last(route).content == b'[{"id":1,"total":9.5},{"id":2,"total":20}]'
    assert last(route).headers["content-type"] == "application/json"


async def test_sink_sends_strings_as_json_too(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.put(f"{API}/note").respond(200)
    out = await http_sink("hi", {"url": f"{API}/note", "method": "PUT"}, client=client)
    assert last(route).content == b'"hi"' and out["status"] == 200


async def test_sink_explicit_body_and_auth(respx_mock: Mock, client: Client) -> None:
    route = respx_mock.patch(f"{API}/x").respond(204)
    out = await http_sink([1], {"url": f"{API}/x", "method": "PATCH", "body": {"only": "this"},
                                "auth": {"type": "bearer", "token": "t"}}, client=client)
    assert json.loads(last(route).content) == {"only": "this"}
    assert last(route).headers["authorization"] == "Bearer t"
    assert out["status"] == 204 and out["statusText"] == "No Content"


async def test_sink_non_2xx_is_an_http_error(respx_mock: Mock, client: Client) -> None:
    respx_mock.post(f"{API}/ingest").respond(503, json={"error": "down"}, headers={"Retry-After": "2"})
    with pytest.raises(HttpError) as info:
        await http_sink({"a": 1}, {"url": f"{API}/ingest"}, client=client)
    assert info.value.retryable and info.value.retry_after == 2.0 and info.value.body == {"error": "down"}


async def test_sink_timeout_and_transport(respx_mock: Mock, client: Client) -> None:
    respx_mock.post(f"{API}/a").mock(side_effect=httpx.ConnectTimeout("t"))
    with pytest.raises(NodeTimeoutError):
        await http_sink({}, {"url": f"{API}/a"}, client=client)
    respx_mock.post(f"{API}/b").mock(side_effect=httpx.ReadError("reset"))
    with pytest.raises(TransportError):
        await http_sink({}, {"url": f"{API}/b"}, client=client)

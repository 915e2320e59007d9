"""The http nodes against a real server on 127.0.0.1: real sockets, real cancellation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from flowscript.errors import NodeTimeoutError, TransportError
from flowscript.nodes.io.http import http_sink, http_source


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 (same event loop as the test).

    GET /json answers JSON at once; /slow waits `slow_seconds` before answering and records
    in `disconnected` when the client hung up while it waited."""

    port: int = 0
    slow_seconds: float = 5.0
    requests: list[Seen] = field(default_factory=list)
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in
                       (line.split(":", 1) for line in lines[1:] if ":" in line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Seen(method, path, headers, body))
            if path.startswith("/slow"):
                self.slow_started.set()
                try:
                    eof = await asyncio.wait_for(reader.read(1), self.slow_seconds)
                except TimeoutError:
                    eof = b"x"
                if eof == b"":
                    self.disconnected.set()
                    return
            payload = json.dumps({"hello": "world", "path": path}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n"
                         + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            self.disconnected.set()
        finally:
            writer.close()


@pytest.fixture
async def loopback() -> AsyncIterator[LoopbackServer]:
    server_state = LoopbackServer()
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state
        server.close()


async def test_source_against_a_real_server(loopback: LoopbackServer, client: httpx.AsyncClient) -> None:
    out = await http_source({"url": f"{loopback.base}/json", "params": {"q": "1"},
                             "headers": {"X-Trace": "t1"}, "extract": "hello"}, client=client)
    assert out == "world"
    seen = loopback.requests[-1]
    assert (seen.method, seen.path, seen.headers["x-trace"]) == ("GET", "/json?q=1", "t1")


async def test_sink_against_a_real_server(loopback: LoopbackServer, client: httpx.AsyncClient) -> None:
    out = await http_sink({"n": 1.0}, {"url": f"{loopback.base}/json"}, client=client)
    assert out["status"] == 200 and out["statusText"] == "OK" and out["headers"]["connection"] == "close"
    assert loopback.requests[-1].method == "POST" and loopback.requests[-1].body == b'{"n":1}'


async def test_cancelling_the_task_aborts_the_request(loopback: LoopbackServer,
                                                      client: httpx.AsyncClient) -> None:
    task = asyncio.create_task(http_source({"url": f"{loopback.base}/slow"}, client=client))
    await asyncio.wait_for(loopback.slow_started.wait(), 2)
    await asyncio.sleep(0.05)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    await asyncio.wait_for(loopback.disconnected.wait(), 1)  # the server saw the client hang up


async def test_engine_attempt_timeout_cancels_the_request(loopback: LoopbackServer,
                                                          client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):  # what the engine does around each attempt
            await http_source({"url": f"{loopback.base}/slow"}, client=client)
    assert time.monotonic() - started < 0.5
    await asyncio.wait_for(loopback.disconnected.wait(), 1)


async def test_node_timeout_config_bounds_the_whole_request(loopback: LoopbackServer,
                                                            client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    with pytest.raises(NodeTimeoutError, match=r"no answer within 0\.15 s"):
        await http_source({"url": f"{loopback.base}/slow", "timeout": 150}, client=client)
    assert time.monotonic() - started < 0.6
    await asyncio.wait_for(loopback.disconnected.wait(), 1)


async def test_connection_refused_is_a_transport_error(client: httpx.AsyncClient) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(TransportError) as info:
        await http_source({"url": f"http://127.0.0.1:{port}/x"}, client=client)
    assert not info.value.retryable and f"127.0.0.1:{port}/x" in info.value.message

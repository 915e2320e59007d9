"""A misbehaving HTTP server on 127.0.0.1 that follows a script, for the flaky-API tests.

Each path has a schedule: the n-th request to it gets the n-th action (the last action
repeats). Actions: `answer(status, ...)` (with optional headers such as Retry-After),
`slow(seconds)` (answer late, watching for the client hanging up meanwhile), `reset()`
(close the connection without a byte of answer; `rst=True` sends a TCP RST), and
`half()` (start an answer, then close). Every request is recorded with its arrival time
on the server's clock, so tests measure the real gaps between attempts.

Every answer carries `Connection: close`, so each attempt is its own connection and the
server sees exactly what the client does with it.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from loopback import LoopbackServer


@dataclass(frozen=True)
class Action:
    kind: str  # answer | slow | reset | half
    status: int = 200
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    rst: bool = False


def answer(status: int = 200, body: Any = None, **headers: str) -> Action:
    """`answer(429, retry_after="1")`: header names are written with `-` for `_`."""
    return Action("answer", status, body, tuple((k.replace("_", "-").title(), v) for k, v in headers.items()))


def slow(seconds: float, status: int = 200, body: Any = None) -> Action:
    return Action("slow", status, body, seconds=seconds)


def reset(*, rst: bool = False) -> Action:
    return Action("reset", rst=rst)


def half() -> Action:
    return Action("half")


@dataclass
class Hit:
    """One request as the server saw it (times on time.monotonic())."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    action: Action
    finished: float | None = None
    client_gone: float | None = None  # when the client hung up before a slow answer was sent


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class FlakyServer(LoopbackServer):
    """Speaks HTTP by hand on raw sockets (a plain TCP server), so it can misbehave."""

    def __init__(self, schedules: dict[str, list[Action]] | None = None) -> None:
        self.schedules: dict[str, list[Action]] = {p: list(s) for p, s in (schedules or {}).items()}
        self.hits: list[Hit] = []
        self.lock = threading.Condition()
        super().__init__()

    def _make_server(self) -> socketserver.ThreadingTCPServer:
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        return socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)

    # ---------------------------------------------------------------- what the tests read
    def to(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def gaps(self, path: str) -> list[float]:
        """Seconds between the arrival of one attempt and the end of the answer to the previous one."""
        hits = self.to(path)
        return [b.arrived - (a.finished or a.arrived) for a, b in itertools.pairwise(hits)]

    def wait_until(self, predicate: Any, timeout: float = 10) -> bool:
        with self.lock:
            return self.lock.wait_for(predicate, timeout)

    # ---------------------------------------------------------------- serving
    def _next_action(self, path: str) -> Action:
        schedule = self.schedules.get(path)
        if not schedule:
            return answer(404)
        done = sum(1 for h in self.hits if h.path == path)
        return schedule[min(done, len(schedule) - 1)]

    def _handle(self, sock: socket.socket) -> None:
        try:
            request = _read_request(sock)
        except (OSError, ValueError):  # the client went away, or sent something unreadable
            return
        if request is None:
            return
        method, target, headers, body = request
        path = target.split("?", 1)[0]
        with self.lock:
            action = self._next_action(path)
            hit = Hit(method, path, headers, body, time.monotonic(), action)
            self.hits.append(hit)
            self.lock.notify_all()
        try:
            self._act(sock, hit)
        except OSError:
            hit.client_gone = hit.client_gone or time.monotonic()
        finally:
            with self.lock:
                hit.finished = time.monotonic()
                self.lock.notify_all()

    def _act(self, sock: socket.socket, hit: Hit) -> None:
        action = hit.action
        if action.kind == "reset":
            if action.rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        if action.kind == "half":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"par")
            sock.close()
            return
        if action.kind == "slow":
            deadline = time.monotonic() + action.seconds
            while (left := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([sock], [], [], min(left, 0.02))
                if readable and sock.recv(1) == b"":  # the client hung up
                    hit.client_gone = time.monotonic()
                    sock.close()
                    return
        payload = json.dumps(action.body if action.body is not None else {"status": action.status}).encode()
        head = [f"HTTP/1.1 {action.status} {REASONS.get(action.status, 'Whatever')}",
                "Content-Type: application/json", f"Content-Length: {len(payload)}", "Connection: close",
                *(f"{k}: {v}" for k, v in action.headers)]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        sock.close()


def _read_request(sock: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, target, headers, body


@dataclass
class Timing:
    """What a backoff gap may be: [0, min(cap, base * 2^k)] plus a tolerance for the round trip."""

    base_s: float
    tolerance_s: float
    cap_s: float = 32.0
    ratios: list[float] = field(default_factory=list)

    def bound(self, k: int) -> float:
        return min(self.cap_s, self.base_s * 2**k)

    def check(self, gaps: list[float]) -> None:
        for k, gap in enumerate(gaps):
            assert gap >= 0, gaps
            assert gap <= self.bound(k) + self.tolerance_s, (
                f"gap {k} was {gap * 1000:.0f} ms, over the full-jitter bound "
                f"{self.bound(k) * 1000:.0f} ms + {self.tolerance_s * 1000:.0f} ms: {gaps}")
            self.ratios.append(gap / self.bound(k))

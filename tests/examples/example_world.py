"""The HTTP world the example workflows talk to, and small helpers for their tests.

One `FakeApi` answers every endpoint the examples call (users, rates, pages, a job, an
order batch, a status page, and an OpenAI-compatible AI endpoint under /v1). It is served
through respx for in-process runs and by a real server on 127.0.0.1 for CLI runs.
"""

from __future__ import annotations

import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loopback import LoopbackServer

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"
DEFAULT_BASE = "http://127.0.0.1:8765"  # the examples' default `base_url`
USERS_TOKEN = "users-token-123"
AI_KEY = "sk-test-ai-key"

USERS = [
    {"name": "Ada", "email": "ada@example.org", "active": True},
    {"name": "Bob", "email": "bob@example.org", "active": False},
    {"name": "Cy", "email": "cy@example.org", "active": True},
    {"name": "Dee", "email": "dee@example.org", "active": True},
]
RATES = {"eu": 1, "us": 0.5, "apac": 2}
LAST_PAGE = 2  # /pages/0 and /pages/1 say there is a next page, /pages/2 does not
JOB_DONE_AFTER = 3  # the job reports "done" on its third poll


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, else text, else None


def completion(arguments: Any, *, content: str | None = None) -> dict[str, Any]:
    """A chat completion whose first choice calls the `respond` tool with `arguments` (None: no tool call)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if arguments is not None:
        message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
            "name": "respond", "arguments": json.dumps(arguments)}}]
    return {"id": "cmpl-1", "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}}


GOOD_SUMMARY = {"summary": "One file per workflow", "score": 8, "tags": ["markdown", "workflows"]}


@dataclass
class FakeApi:
    """The endpoints the examples call; every request is recorded in `requests`."""

    rates_status: int = 500  # /rates (resilient-fetch's live rates) is down unless changed
    status_failures: int = 1  # /status answers 503 this many times, then 200
    # AI completions, served in order; the last one repeats
    ai_answers: list[dict[str, Any]] = field(default_factory=lambda: [completion(GOOD_SUMMARY)])
    requests: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def calls_under(self, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def handle(self, seen: Seen) -> tuple[int, Any]:
        """(status, JSON body) for one request."""
        with self._lock:
            self.requests.append(seen)
            return self._answer(seen)

    def _answer(self, seen: Seen) -> tuple[int, Any]:
        path, method = seen.path, seen.method
        last = path.rsplit("/", 1)[-1]
        if method == "GET" and path == "/users":
            if seen.headers.get("authorization") != f"Bearer {USERS_TOKEN}":
                return 401, {"error": "unauthorized"}
            return 200, {"users": USERS[: int(seen.query.get("limit", "100"))], "total": len(USERS)}
        if method == "GET" and path.startswith("/rates/"):
            return 200, {"region": last, "rate": RATES[last]}
        if method == "GET" and path.startswith("/pages/"):
            page = int(last)
            return 200, {"page": page, "items": [page * 10, page * 10 + 1], "next": page < LAST_PAGE}
        if method == "GET" and path == "/job":
            polls = len(self.calls("/job"))
            return 200, {"state": "done" if polls >= JOB_DONE_AFTER else "running", "polls": polls}
        if method == "PUT" and path == "/orders/batch":
            return 201, {"accepted": len(seen.body)}
        if method == "GET" and path == "/rates":
            return self.rates_status, ({"EUR": 1, "USD": 1.1} if self.rates_status == 200 else {"error": "down"})
        if method == "GET" and path == "/status":
            if len(self.calls("/status")) <= self.status_failures:
                return 503, {"error": "warming up"}
            return 200, {"healthy": True, "version": "2.4"}
        if method == "POST" and path == "/v1/chat/completions":
            if seen.headers.get("authorization") != f"Bearer {AI_KEY}":
                return 401, {"error": {"message": "bad key"}}
            answers = self.ai_answers
            return 200, answers.pop(0) if len(answers) > 1 else answers[0]
        return 404, {"error": f"no route {method} {path}"}


def parse_body(content: bytes, content_type: str | None) -> Any:
    if not content:
        return None
    text = content.decode("utf-8")
    return json.loads(text) if (content_type or "").startswith("application/json") else text


def json_file(value: Any) -> str:
    """The exact text a file sink writes for a list or object: JSON indented by two, then a newline."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ served on 127.0.0.1
class _Handler(BaseHTTPRequestHandler):
    owner: FakeApiServer

    def _serve(self) -> None:
        url = urlsplit(self.path)
        content = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.owner.api.handle(Seen(self.command, url.path, dict(parse_qsl(url.query)),
                                            {k.lower(): v for k, v in self.headers.items()},
                                            parse_body(content, self.headers.get("Content-Type"))))
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass

    def version_string(self) -> str:  # the same headers every time: an http sink's output holds them
        return "example-world"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Thu, 01 Jan 2026 00:00:00 GMT"


class FakeApiServer(LoopbackServer):
    """The FakeApi on a real HTTP server on 127.0.0.1: a free port, or `port` (the examples'
    default base URL is port 8765, for runs whose requests leave this process)."""

    def __init__(self, api: FakeApi, port: int = 0) -> None:
        self.api = api
        self.port = port
        super().__init__()

    def _make_server(self) -> socketserver.ThreadingTCPServer:
        return ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"owner": self})

"""A real HTTP server on 127.0.0.1 that counts what it receives and what it commits.

`fail_first` gives error statuses a path answers before its real answer; `delays` makes a
path answer late. `hold(path)` makes requests to that path wait until `release()`; a released request with
`drop=True` is abandoned without an answer and without its side effect (as a server does
when its client went away before the work was committed).
"""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    """A threading HTTP server on 127.0.0.1 (a free port), served from a daemon thread while
    the `with` block lasts; a subclass says how it answers in `_handler()`."""

    def __init__(self) -> None:
        self._server = self._make_server()
        self._server.daemon_threads = True
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _make_server(self) -> socketserver.ThreadingTCPServer:
        return ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A client that went away mid-answer is what the tests cause on purpose (a cancelled
        node, a killed process); socketserver would print its traceback from this daemon thread
        at any later moment, into whatever stderr a later test is capturing."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        socketserver.BaseServer.handle_error(self._server, request, client_address)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class CountingServer(LoopbackServer):
    def __init__(self, answers: dict[str, Any], *, fail_first: dict[str, list[int]] | None = None,
                 delays: dict[str, float] | None = None) -> None:
        self.answers = answers
        self.fail_first = {path: list(statuses) for path, statuses in (fail_first or {}).items()}
        self.delays = delays or {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.received: Counter[str] = Counter()
        self.committed: Counter[str] = Counter()
        self.bodies: dict[str, list[Any]] = {}
        self.headers: dict[str, list[dict[str, str]]] = {}
        self._held: set[str] = set()
        self._release = threading.Event()
        self._drop = False
        self.arrived = threading.Condition()
        super().__init__()

    def __exit__(self, *exc: object) -> None:
        self.release(drop=True)
        super().__exit__(*exc)

    def hold(self, path: str) -> None:
        self._held.add(path)

    def release(self, *, drop: bool) -> None:
        self._drop = drop
        self._held.clear()
        self._release.set()

    def wait_for(self, path: str, *, committed: bool = False, timeout: float = 20) -> None:
        counts = self.committed if committed else self.received
        with self.arrived:
            if not self.arrived.wait_for(lambda: counts[path] > 0, timeout):
                raise TimeoutError(f"no request to {path} within {timeout}s")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None: ...

            def _serve(self) -> None:
                path = self.path.split("?")[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.arrived:
                    server.received[path] += 1
                    server.headers.setdefault(path, []).append(dict(self.headers))
                    server.arrived.notify_all()
                with server.arrived:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(path, body)
                finally:
                    with server.arrived:
                        server.in_flight -= 1

            def _answer(self, path: str, body: bytes) -> None:
                if path in server.delays:
                    time.sleep(server.delays[path])
                if path in server._held:
                    server._release.wait(30)
                    if server._drop:
                        self.close_connection = True
                        return
                with server.arrived:
                    failing = server.fail_first.get(path)
                    status = failing.pop(0) if failing else None
                if status is not None or path not in server.answers:
                    self.send_error(status or 404)
                    return
                payload = json.dumps(server.answers[path]).encode()
                with server.arrived:
                    server.committed[path] += 1
                    server.bodies.setdefault(path, []).append(json.loads(body) if body else None)
                    server.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler

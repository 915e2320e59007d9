"""Benchmark of foreach (a script, not a test): python bench/bench_foreach.py

1. A foreach over 1,000 items with concurrency 10 whose body is one template transform:
   the engine's cost per iteration (with and without the state file, which journals every
   iteration's result).
2. The same foreach whose body is an http source against a loopback server started here
   (http.server, one thread per connection, on 127.0.0.1) that answers each request after
   DELAY_S: with concurrency 10 the 1,000 waits of 10 ms overlap, so the run should take
   about 1,000 x 10 ms / 10 = 1 s rather than 10 s. The server counts the requests in
   flight at once, which shows the overlap directly. 100 items at concurrency 1 give the
   serial baseline. The server runs in a child process (this script with --serve): in a
   thread of this process it would share the GIL with the engine and add ~0.5 s.
Each run goes through the engine in this process with the local backend. Prints the figures.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from local_run import timed_run

ITEMS = 1_000
CONCURRENCY = 10
DELAY_S = 0.010
ROUNDS = 3
HEADER = """---
name: foreach-{name}
version: 1.0
config:
  base: {{type: string, default: "http://127.0.0.1:9"}}
---

# foreach

<workflow>
  <transform id="items" type="map" expression="range({items})"/>
"""
TEMPLATE_BODY = """  <foreach id="each" collection="items.output" item="n" concurrency="{concurrency}">
    <transform id="label" type="template"><template>item {{{{n}}}}: {{{{n * 2}}}}</template></transform>
  </foreach>
</workflow>
"""
HTTP_BODY = """  <foreach id="each" collection="items.output" item="n" concurrency="{concurrency}">
    <source id="fetch" type="http" url="{{{{$config.base}}}}/item/{{{{n}}}}"/>
  </foreach>
</workflow>
"""


class SlowServer(ThreadingHTTPServer):
    """Answers every GET with {"n": ...} after DELAY_S; remembers the most requests in flight."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would allow
    disable_nagle_algorithm = True  # else headers and body in two writes wait ~40 ms for a delayed ACK
    server: SlowServer

    def do_GET(self) -> None:
        server = self.server
        if self.path == "/stats":  # the figures, then they start again
            with server.lock:
                stats = {"peak": server.peak, "requests": server.requests}
                server.peak = server.requests = 0
            self._answer(json.dumps(stats).encode())
            return
        with server.lock:
            server.in_flight += 1
            server.requests += 1
            server.peak = max(server.peak, server.in_flight)
        time.sleep(DELAY_S)
        with server.lock:
            server.in_flight -= 1
        self._answer(json.dumps({"n": self.path.rsplit("/", 1)[-1]}).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


def write(folder: Path, name: str, body: str, items: int, concurrency: int) -> Path:
    path = folder / f"{name}.flow.md"
    path.write_text(HEADER.format(name=name, items=items) + body.format(concurrency=concurrency), encoding="utf-8")
    return path


def run_once(path: Path, state: bool, config: dict[str, str] | None = None) -> float:
    elapsed, run_state = timed_run(path, state=state, config=config)
    assert len(run_state.node_results["each"].output) == int(run_state.node_results["each"].meta["items"])
    return elapsed


def bench_template(folder: Path) -> None:
    path = write(folder, "template", TEMPLATE_BODY, ITEMS, CONCURRENCY)
    print(f"foreach over {ITEMS:,} items, concurrency {CONCURRENCY}, body: one template transform")
    for mode, state in (("state file", True), ("no state", False)):
        seconds = statistics.median(run_once(path, state) for _ in range(ROUNDS))
        print(f"  {mode:<11} {seconds:6.3f} s total  {seconds / ITEMS * 1000:6.3f} ms/item")


def serve() -> None:
    """The child process: prints the server's URL, then serves until killed."""
    server = SlowServer()
    print(server.url, flush=True)
    server.serve_forever()


def server_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as answer:
        return json.loads(answer.read())


def bench_http(folder: Path) -> None:
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    config = {"base": url}
    print(f"foreach with an http source per item, loopback server answering after {DELAY_S * 1000:.0f} ms "
          "(state file on)")
    try:
        for items, concurrency in ((100, 1), (ITEMS, CONCURRENCY)):
            path = write(folder, f"http-{items}-{concurrency}", HTTP_BODY, items, concurrency)
            server_stats(url)
            seconds = run_once(path, True, config)
            stats = server_stats(url)
            assert stats["requests"] == items, stats
            serial = items * DELAY_S
            print(f"  {items:>5,} items, concurrency {concurrency:>2}: {seconds:6.3f} s "
                  f"(serial waiting alone: {serial:5.2f} s; ideal: {serial / concurrency:5.2f} s; "
                  f"speed-up x{serial / seconds:4.1f}), at most {stats['peak']} requests in flight, "
                  f"{seconds / items * 1000:5.2f} ms/item")
    finally:
        child.kill()
        child.wait()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flowscript-bench-") as tmp:
        bench_template(Path(tmp))
        bench_http(Path(tmp))


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["--serve"] else main()

"""Running the example workflows of flows/examples against a fake HTTP world.

Every test works in a fresh copy of flows/examples (the examples read ./data and write
./out relative to their folder). HTTP goes to one FakeApi (example_world.py), served
through respx for in-process runs (a request respx does not route fails, so nothing can
reach the network) or by a real HTTP server on 127.0.0.1 for runs of the `flowscript` CLI
in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from example_world import DEFAULT_BASE, EXAMPLES, FakeApi, FakeApiServer, Seen, parse_body
from local_runs import Outcome as LocalOutcome
from local_runs import run_local

from flowscript.compiler.loader import load_workflow


# ------------------------------------------------------------------ serving the fake
@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A FakeApi behind respx at the examples' default base URL (the AI endpoint at its /v1)."""
    fake = FakeApi()

    def side_effect(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, body = fake.handle(Seen(request.method, request.url.path, dict(request.url.params), headers,
                                        parse_body(request.content, headers.get("content-type"))))
        return httpx.Response(status, json=body)

    with respx.mock(assert_all_called=False) as router:
        router.route(scheme="http", host="127.0.0.1", port=8765).mock(side_effect=side_effect)
        yield fake


@dataclass
class Loopback:
    api: FakeApi
    base_url: str


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    """A FakeApi served by a real HTTP server on 127.0.0.1 (a free port), for CLI runs."""
    fake = FakeApi()
    with FakeApiServer(fake) as server:
        yield Loopback(fake, server.url)


# ------------------------------------------------------------------ running an example
@dataclass
class Outcome(LocalOutcome):
    folder: Path

    def text(self, relative: str) -> str:
        return (self.folder / relative).read_text(encoding="utf-8")

    def state_file_text(self) -> str:
        [path] = (self.folder / ".state").glob("*/*.json")
        return path.read_text(encoding="utf-8")

    def written(self) -> list[str]:
        """The names of the files in out/."""
        out = self.folder / "out"
        return sorted(p.name for p in out.iterdir()) if out.exists() else []


@dataclass
class Examples:
    """A private copy of flows/examples, and the two ways to run one of its workflows."""

    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.flow.md"

    async def run(self, name: str, *, config: dict[str, Any] | None = None,
                  secrets: dict[str, str] | None = None, **options: Any) -> Outcome:
        """Runs the example in this process on the local backend (no terminal), no log written."""
        loaded = load_workflow(self.path(name))
        assert not loaded.diagnostics, [d.render() for d in loaded.diagnostics]
        options.setdefault("write_log", False)
        options.setdefault("env", {"FLOWSCRIPT_AI_BASE_URL": f"{DEFAULT_BASE}/v1"})  # never the real environment
        ran = await run_local(self.path(name), config=config, secrets=secrets or {}, loaded=loaded, **options)
        return Outcome(ran.state, ran.failure, ran.engine, self.folder)

    def cli(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`flowscript run --local NAME.flow.md ARGS...` in the copy's folder, with no terminal."""
        exe = Path(sys.executable).with_name("flowscript")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "flowscript"]
        inherited = {k: v for k, v in os.environ.items()
                     if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FLOWSCRIPT_AI_BASE_URL")}
        return subprocess.run([*command, "run", "--local", f"{name}.flow.md", *args], cwd=self.folder,
                              env={**inherited, "NO_PROXY": "127.0.0.1", **(env or {})}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)


@pytest.fixture
def examples(tmp_path: Path) -> Examples:
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", ".flowscript-state", ".state"))
    return Examples(folder)

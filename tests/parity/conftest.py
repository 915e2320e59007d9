"""The parity suite's fixtures: the examples' fake HTTP world (tests/examples/example_world.py)
served through respx in this process, with the Prefect API let through, and a fresh copy of
flows/examples per backend run."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import respx

pytest.register_assert_rewrite("parity_support")  # its assertions explain a difference
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))  # example_world, shared with tests/examples
from example_world import DEFAULT_BASE, EXAMPLES, FakeApi, Seen, parse_body  # noqa: E402


@dataclass
class World:
    """The FakeApi answering at the examples' base URL; `fresh()` starts a new one (its
    counters and scripted answers reset) for the next run."""

    api: FakeApi = field(default_factory=FakeApi)

    def fresh(self) -> FakeApi:
        self.api = FakeApi()
        return self.api


@pytest.fixture
def world(prefect_api) -> Iterator[World]:
    """respx intercepts every httpx request of this process, the Prefect client's too: those
    go through to the real Prefect API; the examples' base URL is the fake; anything else fails."""
    world = World()

    def side_effect(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, body = world.api.handle(Seen(request.method, request.url.path, dict(request.url.params), headers,
                                             parse_body(request.content, headers.get("content-type"))))
        return httpx.Response(status, json=body)

    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=prefect_api.url).pass_through()
        router.route(url__startswith=DEFAULT_BASE + "/").mock(side_effect=side_effect)
        yield world


@pytest.fixture
def copies(tmp_path: Path) -> Callable[[str], Path]:
    """copies(label): a fresh copy of flows/examples under tmp_path/label."""

    def copy(label: str) -> Path:
        folder = tmp_path / label
        shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", ".flowscript-state", ".state"))
        return folder

    return copy

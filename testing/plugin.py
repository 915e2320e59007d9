"""The `flowscript` pytest plugin (entry point `pytest11`; docs/testing.md). Fixtures:

- `flowscript_run(workflow, **options)`: runs a workflow (a path, or its text) in the test's
  own temporary folder (the workflow and the data files it reads copied there), with instant
  retries (the policy counted, no waiting) and, when the `ai` fixture is used, its key;
  returns the RunResult. Options are run_workflow's.
- `ai`: a FakeModel answering every chat-completions request of the test offline.
- `flowscript_workdir`: the folder runs work in (a Path).

`assert_output` and `assert_status` come from flowscript.testing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flowscript.api import RunResult
from flowscript.testing.fake_model import FakeModel

Runner = Callable[..., RunResult]


@pytest.fixture
def flowscript_workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    return folder


@pytest.fixture
def ai(request: pytest.FixtureRequest) -> Iterator[FakeModel]:
    """The fake model; it joins a respx router the test already has (the `respx_mock`
    fixture), else it routes with a respx mock of its own that lets other requests through."""
    model = FakeModel()
    router = request.getfixturevalue("respx_mock") if "respx_mock" in request.fixturenames else None
    with model.answering(router):
        yield model


@pytest.fixture
def flowscript_run(request: pytest.FixtureRequest, flowscript_workdir: Path) -> Runner:
    from flowscript.api import run_workflow, workflow_path
    from flowscript.testing.folders import copy_workflow

    def run(workflow: Any, **options: Any) -> RunResult:
        if "ai" in request.fixturenames:
            model: FakeModel = request.getfixturevalue("ai")
            options["secrets"] = {**model.secrets, **options.get("secrets", {})}
        options.setdefault("instant_retries", True)
        options.setdefault("workdir", flowscript_workdir)
        path = workflow_path(workflow)
        return run_workflow(workflow if path is None else copy_workflow(path, flowscript_workdir), **options)

    return run

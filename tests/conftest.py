"""Shared test helpers: write a .flow.md from a body, find the repository's folders, and the
one Prefect API of the session (for tests/prefect and tests/parity)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "flows" / "examples"
CONFORMANCE = REPO.parent / "shared" / "conformance"

FRONTMATTER = """---
name: {name}
version: 1.0.0
{extra}---

# {name}

"""

WriteFlow = Callable[..., Path]


@pytest.fixture
def write_flow(tmp_path: Path) -> WriteFlow:
    """Writes `<workflow>body</workflow>` with a minimal frontmatter into tmp_path; returns its path."""

    def write(body: str, *, name: str = "test-flow", extra: str = "", filename: str | None = None) -> Path:
        path = tmp_path / (filename or f"{name}.flow.md")
        text = FRONTMATTER.format(name=name, extra=extra) + "<workflow>\n" + body.strip("\n") + "\n</workflow>\n"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Prefect API (Prefect's test harness), started once per session for every test
    directory that asks for it; Prefect is imported only here, so local-only runs never import it."""
    from prefect_support import prefect_harness

    with prefect_harness(tmp_path_factory.mktemp("prefect-results")) as api:
        yield api

"""Runs the real `flowscript` command line in-process (typer's runner) from a scratch folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowscript.cli import deploying, inspect, running  # noqa: F401  (they register their commands)
from flowscript.cli.app import app

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli("run", "--local", "x.flow.md", env={...})`, run with tmp_path as the working directory."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
        result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
        return CliResult(result.exit_code, _ANSI.sub("", result.stdout), _ANSI.sub("", result.stderr))

    return invoke

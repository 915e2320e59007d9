"""Runs the real `flowscript` command line in-process from a scratch folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import cli_support
import pytest
from cli_support import CliResult

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`cli("run", "--local", "x.flow.md", env={...})`, run with tmp_path as the working directory."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
        result = cli_support.invoke(list(args), env=env)
        return CliResult(result.exit_code, _ANSI.sub("", result.stdout), _ANSI.sub("", result.stderr))

    return invoke

"""The command line run in this process, as a test calls it, and assertions the CLI tests share."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from unittest import mock

from flowscript.cli.app import run


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(args: list[str], env: dict[str, str] | None = None) -> CliResult:
    """`flowscript ARGS` in this process, with `env` added to the environment for its length."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_no_traceback(output: str) -> None:
    assert "Traceback (most recent call last)" not in output, output

"""The command line: its parser, and the one place errors become exit codes.

Exit codes: 0 success, 1 run failed or cancelled, 2 invalid workflow or usage, 130 stopped
with Ctrl-C. A user's mistake prints `file:line:column: CODE message` and a hint, never a
traceback (`--debug` shows one for our own bugs). The parser is the standard library's
argparse: a command starts in milliseconds, and each command imports only what it needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from flowscript import __version__
from flowscript.errors import FlowScriptError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_STOPPED = 0, 1, 2, 130
Command = Callable[[argparse.Namespace], int | None]


class Exit(Exception):
    """Ends the command with this exit code (after it printed what it had to say)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A usage mistake: the command's usage line, the message and exit code 2."""
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise Exit(EXIT_INVALID)


def echo(text: str = "", *, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


def parser() -> argparse.ArgumentParser:
    from flowscript.cli import deploying, inspect, running

    root = _Parser(prog="flowscript",
                   description="Read, check, plan and run FlowScript (.flow.md) workflows, locally or on Prefect.")
    root.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    root.add_argument("--version", action="version", version=f"flowscript {__version__}")
    commands = root.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for module in (inspect, running, deploying):
        module.add_commands(commands)
    return root


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: runs the command and exits with its code."""
    sys.exit(run(sys.argv[1:] if argv is None else list(argv)))


def run(argv: list[str]) -> int:
    """Runs one command line; returns its exit code (tests call this in-process)."""
    debug = "--debug" in argv
    try:
        root = parser()
        args = root.parse_args(argv)
        command: Command | None = getattr(args, "command", None)
        if command is None:
            root.print_help(sys.stderr)
            return EXIT_INVALID
        return command(args) or EXIT_OK
    except Exit as done:
        return done.code
    except SystemExit as done:  # --help, --version
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_INVALID
    except FlowScriptError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_STOPPED
    except Exception as error:  # our bug, not the user's: say so without a wall of text
        if debug:
            import traceback

            traceback.print_exc()
        print(f"internal error: {type(error).__name__}: {error}\n  hint: run with --debug for the traceback",
              file=sys.stderr)
        return EXIT_FAILED


# ------------------------------------------------------------------ option types


def add_task_runner_options(command: argparse.ArgumentParser, runs: str) -> None:
    """`--task-runner` and `--dask-address`, as run, deploy and serve take them."""
    command.add_argument("--task-runner", choices=("thread", "dask"),
                         default=os.environ.get("FLOWSCRIPT_TASK_RUNNER") or "thread",
                         help=f"the Prefect task runner of {runs} (default thread; FLOWSCRIPT_TASK_RUNNER)")
    command.add_argument("--dask-address", default=os.environ.get("FLOWSCRIPT_DASK_ADDRESS") or None,
                         metavar="ADDR", help="with --task-runner dask: the scheduler, e.g. tcp://host:8786 "
                                              "(none: a temporary LocalCluster of worker processes)")


def task_runner_of(args: argparse.Namespace) -> Any:
    """The TaskRunnerChoice the options name (imports the Prefect backend: call it on that path)."""
    from flowscript.prefect_backend.task_runners import TaskRunnerChoice

    return TaskRunnerChoice.of(args.task_runner, args.dask_address)


def positive_int(text: str) -> int:
    return _number(text, int, 1)


def whole_number(text: str) -> int:
    return _number(text, int, 0)


def seconds(text: str) -> float:
    return _number(text, float, 0)


def _number(text: str, kind: Callable[[str], Any], minimum: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text} is below {minimum:g}")
    return value

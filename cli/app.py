"""The typer application, its global options, and the one place errors become exit codes.

Exit codes: 0 success, 1 run failed or cancelled, 2 invalid workflow or usage. A user's
mistake prints `file:line:column: CODE message` and a hint, never a traceback (`--debug`
shows one for our own bugs).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer

from flowscript.errors import FlowScriptError

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

app = typer.Typer(
    name="flowscript",
    help="Read, check, plan and run FlowScript (.flow.md) workflows, locally or on Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_debug = {"on": False}

F = TypeVar("F", bound=Callable[..., Any])


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on internal errors."),
) -> None:
    _debug["on"] = debug


def reports_errors(func: F) -> F:
    """Turns the project's errors into a clear message and exit 2; anything else into exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except FlowScriptError as e:
            print(e.render(), file=sys.stderr)
            raise typer.Exit(EXIT_INVALID) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Exception as e:  # our bug, not the user's: say so without a wall of text
            if _debug["on"]:
                traceback.print_exc()
            print(f"internal error: {type(e).__name__}: {e}\n  hint: run with --debug for the traceback",
                  file=sys.stderr)
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def main() -> None:
    from flowscript.cli import deploying, inspect, running  # noqa: F401  (they register their commands)

    app()

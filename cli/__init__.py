"""The `flowscript` command line."""

from flowscript.cli.app import main

__all__ = ["main"]

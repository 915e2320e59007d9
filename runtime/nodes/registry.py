"""Node kind -> runtime. A new kind is one new module and one line here."""

from __future__ import annotations

from collections.abc import Mapping

from flowscript.runtime.executor import Handler
from flowscript.runtime.nodes.branching import run_branch, run_if
from flowscript.runtime.nodes.checkpoint import run_checkpoint
from flowscript.runtime.nodes.foreach import run_foreach
from flowscript.runtime.nodes.io_nodes import (
    run_ai,
    run_file_sink,
    run_file_source,
    run_http_sink,
    run_http_source,
)
from flowscript.runtime.nodes.loops import run_loop, run_while
from flowscript.runtime.nodes.parallel import run_parallel
from flowscript.runtime.nodes.transforms import run_filter, run_map, run_template

HANDLERS: Mapping[str, Handler] = {
    "source:file": run_file_source,
    "source:http": run_http_source,
    "sink:file": run_file_sink,
    "sink:http": run_http_sink,
    "transform:map": run_map,
    "transform:filter": run_filter,
    "transform:template": run_template,
    "transform:ai": run_ai,
    "if": run_if,
    "branch": run_branch,
    "loop": run_loop,
    "while": run_while,
    "foreach": run_foreach,
    "parallel": run_parallel,
    "checkpoint": run_checkpoint,
}

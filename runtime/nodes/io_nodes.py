"""file and http sources and sinks, and the ai transform: config resolved, then runtime.io."""

from __future__ import annotations

from typing import Any

from flowscript.compiler.ast import DataNode
from flowscript.expressions import to_json
from flowscript.nodes.io.ai import ai_transform
from flowscript.nodes.io.files import read_file_source, write_file_sink
from flowscript.nodes.io.http import http_sink, http_source
from flowscript.runtime.executor import Executor, WithMeta
from flowscript.runtime.scope import Frame


def _config(ex: Executor, node: DataNode, frame: Frame, input: Any) -> dict[str, Any]:
    return ex.resolve_config(node, ex.scope(frame, input))


async def run_file_source(ex: Executor, node: DataNode, frame: Frame, input: Any) -> Any:
    return await read_file_source(_config(ex, node, frame, input), workdir=ex.run.workdir)


async def run_file_sink(ex: Executor, node: DataNode, frame: Frame, input: Any) -> Any:
    return await write_file_sink(input, _config(ex, node, frame, input), workdir=ex.run.workdir, to_json=to_json)


async def run_http_source(ex: Executor, node: DataNode, frame: Frame, input: Any) -> Any:
    return await http_source(_config(ex, node, frame, input), client=ex.run.http)


async def run_http_sink(ex: Executor, node: DataNode, frame: Frame, input: Any) -> Any:
    return await http_sink(input, _config(ex, node, frame, input), client=ex.run.http)


async def run_ai(ex: Executor, node: DataNode, frame: Frame, input: Any) -> Any:
    result = await ai_transform(_config(ex, node, frame, input), input, client=ex.run.http,
                                secrets=ex.run.secrets, env=ex.run.env)
    return WithMeta(result.output, {"usage": result.usage})

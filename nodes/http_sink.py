"""`<sink type="http">` (the default sink): sends its input as JSON (docs/language.md#http)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.nodes.base import DataCall
from flowscript.nodes.data import HTTP_LIFTED, HTTP_METHODS, SinkNode


@dataclass(kw_only=True, slots=True)
class HttpSink(SinkNode):
    """`<sink type="http">` (the default sink): sends its input as JSON in one request."""

    type = "http"
    required_config = ("url",)
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {"method": HTTP_METHODS}
    lifted = HTTP_LIFTED
    wants_input = True

    async def run(self, call: DataCall) -> Any:
        from flowscript.nodes.io.http import http_sink

        return await http_sink(call.input, call.config(), client=call.http)

"""`<source type="http">` (the default source): one HTTP request, its answer as the output
(docs/language.md#http)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.nodes.base import DataCall
from flowscript.nodes.data import HTTP_LIFTED, HTTP_METHODS, SourceNode


@dataclass(kw_only=True, slots=True)
class HttpSource(SourceNode):
    """`<source type="http">` (the default source): one HTTP request, its answer as the output."""

    type = "http"
    required_config = ("url",)
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {"method": HTTP_METHODS}
    lifted = HTTP_LIFTED

    async def run(self, call: DataCall) -> Any:
        from flowscript.nodes.io.http import http_source

        return await http_source(call.config(), client=call.http)

"""`<sink type="file">`: writes its input to a file of the working directory, atomically
(docs/language.md#files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.expressions import to_json
from flowscript.nodes.base import DataCall
from flowscript.nodes.data import FILE_FORMATS, SinkNode


@dataclass(kw_only=True, slots=True)
class FileSink(SinkNode):
    """`<sink type="file">`: writes its input to a file, atomically."""

    type = "file"
    required_config = ("path",)
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {"format": FILE_FORMATS}
    wants_input = True

    async def run(self, call: DataCall) -> Any:
        from flowscript.nodes.io.files import write_file_sink

        return await write_file_sink(call.input, call.config(), workdir=call.workdir, to_json=to_json)

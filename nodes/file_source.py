"""`<source type="file">`: reads a file of the working directory (docs/language.md#files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowscript.nodes.base import DataCall
from flowscript.nodes.data import FILE_FORMATS, SourceNode


@dataclass(kw_only=True, slots=True)
class FileSource(SourceNode):
    """`<source type="file">`: a file's content, parsed by its format."""

    type = "file"
    required_config = ("path",)
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {"format": FILE_FORMATS}

    async def run(self, call: DataCall) -> Any:
        from flowscript.nodes.io.files import read_file_source

        return await read_file_source(call.config(), workdir=call.workdir)

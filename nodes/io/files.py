"""The file source and the file sink (docs/language.md#files).

Paths go through the working-directory sandbox; disk work runs in a worker thread so the
event loop (and the other nodes of the wave) never wait on it; writes are atomic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowscript.errors import FileError
from flowscript.expressions import to_json as js_to_json
from flowscript.nodes.io.atomic import atomic_write_bytes
from flowscript.nodes.io.config_values import config_error, get_bool, get_str
from flowscript.nodes.io.file_formats import (
    JsonPrinter,
    choose_read_format,
    choose_write_format,
    decode_text,
    parse,
    render,
)
from flowscript.nodes.io.paths import display_path, resolve_sandboxed


def _path_entry(config: Mapping[str, Any]) -> str:
    path = get_str(config, "path")
    if not path or not path.strip():
        raise config_error("path", "a file node needs a path", hint='e.g. path="./data/items.json"')
    return path


def _os_error(shown: str, action: str, e: OSError) -> FileError:
    reason = e.strerror or type(e).__name__
    return FileError(f"cannot {action} {shown}: {reason}")


def _read_bytes(target: Path, shown: str, workdir: Path) -> bytes:
    try:
        return target.read_bytes()
    except FileNotFoundError:
        raise FileError(f"file not found: {shown}",
                        hint=f"paths are relative to the working directory {workdir}") from None
    except IsADirectoryError:
        raise FileError(f"{shown} is a folder, not a file") from None
    except OSError as e:
        raise _os_error(shown, "read", e) from None


async def read_file_source(config: Mapping[str, Any], *, workdir: Path) -> Any:
    """The content of the file at config `path`, parsed per `format` (auto by extension)."""
    path = _path_entry(config)
    shown = display_path(path)
    fmt = choose_read_format(get_str(config, "format"), path)
    target = resolve_sandboxed(path, workdir)
    data = await asyncio.to_thread(_read_bytes, target, shown, workdir)
    return parse(decode_text(data, shown), fmt, shown)


def _write(target: Path, data: bytes, shown: str) -> None:
    try:
        atomic_write_bytes(target, data)
    except IsADirectoryError:
        raise FileError(f"cannot write {shown}: it is a folder") from None
    except OSError as e:
        raise _os_error(shown, "write", e) from None


async def write_file_sink(value: Any, config: Mapping[str, Any], *, workdir: Path,
                          to_json: JsonPrinter = js_to_json) -> dict[str, Any]:
    """Writes `value` to config `path` atomically; output `{path, bytes}`.

    `format`: json (default for lists/objects), text (default otherwise), yaml or csv;
    `pretty` (default true) indents JSON by two spaces. Parent folders are created."""
    path = _path_entry(config)
    shown = display_path(path)
    fmt = choose_write_format(get_str(config, "format"), value)
    pretty = get_bool(config, "pretty", True)
    target = resolve_sandboxed(path, workdir)
    data = render(value, fmt, pretty=pretty, to_json=to_json).encode("utf-8")
    await asyncio.to_thread(_write, target, data, shown)
    return {"path": shown, "bytes": len(data)}

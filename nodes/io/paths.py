"""The working-directory sandbox for file nodes (docs/language.md#files).

A workflow names files relative to its working directory and may not reach outside it:
absolute paths and `..` components are refused as written (after templates were
resolved), and the path is refused again when following symlinks leads outside.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from flowscript.errors import FileError

_SEPARATORS = re.compile(r"[\\/]+")
_DRIVE = re.compile(r"^[A-Za-z]:")
_HINT = "use a path relative to the working directory, without '..', that stays inside it"


def _refuse(path: str, why: str) -> FileError:
    return FileError(f"path {path!r} is refused: {why}", hint=_HINT)


def resolve_sandboxed(path: str, workdir: Path) -> Path:
    """The real path of `path` under `workdir`, or FileError when it would leave it."""
    if not isinstance(path, str) or not path.strip():
        raise FileError(f"path must be a non-empty string, got {path!r}", hint=_HINT)
    if "\x00" in path:
        raise _refuse(path, "it contains a NUL character")
    if path.startswith(("/", "\\", "~")) or _DRIVE.match(path) or os.path.isabs(path):
        raise _refuse(path, "absolute paths are not allowed")
    parts = _SEPARATORS.split(path)
    if ".." in parts:
        raise _refuse(path, "'..' components are not allowed")
    root = workdir.resolve()
    try:
        real = (root / path).resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop, or a name the OS refuses
        raise _refuse(path, f"it cannot be resolved ({e})") from None
    if real != root and not real.is_relative_to(root):
        raise _refuse(path, "it leads outside the working directory (through a symlink)")
    return real


def display_path(path: str) -> str:
    """The path as given, normalised (`./out//a.json` -> `out/a.json`), for outputs and messages."""
    return str(PurePosixPath(*[p for p in _SEPARATORS.split(path) if p not in ("", ".")]) or ".")

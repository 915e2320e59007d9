"""The project's one atomic file writer (file sinks, the state file, the markdown log).

A crash or an error at any moment leaves either the old file or the new one, never a torn
file: the data goes to a temporary file in the same folder (same file system), is flushed
and fsynced, then renamed over the target with os.replace. On failure the temporary file
is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

_NEW_FILE_MODE = 0o666  # the process umask applies, as for any new file


def _open_temp(target: Path) -> tuple[int, Path]:
    """A new, exclusively created temporary file beside `target` (hidden, random name)."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           _NEW_FILE_MODE), temp
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    """Makes the rename itself durable; best effort (not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(target: Path, data: bytes, *, make_parents: bool = True) -> None:
    """Replaces `target` with `data` atomically; raises OSError and leaves no temporary file.

    An existing target keeps its permission bits. Parent folders are created unless
    `make_parents` is false."""
    target = Path(target)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _open_temp(target)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, os.stat(target).st_mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(target.parent)

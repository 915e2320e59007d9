"""Fault injection for the atomicity tests (docs/reliability.md, "Atomicity").

Each fault hits only the files under one folder, so the rest of the process (pytest, the
event loop, other files) is untouched:

- `replace`: the rename of the finished temporary file over the target fails (a crash or
  an I/O error between write and rename);
- `disk-full`: every write to a file opened there fails with ENOSPC (the atomic writer's
  os.write and an append through open());
- `read-only`: creating or opening a file for writing there fails with EROFS.

`tmpfs(...)` mounts a real, tiny file system for the same faults without any patching
(a full disk, a read-only remount); it needs root and Linux and skips the test otherwise.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FAULTS = ("replace", "disk-full", "read-only")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _under(path: Any, folder: Path) -> bool:
    try:
        resolved = Path(os.fsdecode(path)).resolve()
    except (TypeError, ValueError):
        return False
    return resolved == folder or folder in resolved.parents


class _FullFile:
    """A file object on a full disk: opening works, writing and flushing fail."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def inject(monkeypatch: pytest.MonkeyPatch, kind: str, folder: Path, *, match: str = "",
           after: int = 0) -> dict[str, int]:
    """Installs fault `kind` for files under `folder` whose name contains `match`, sparing
    the first `after` files it would hit; returns a counter of the faults raised."""
    folder = Path(folder).resolve()
    hits = {"count": 0}
    spared = {"left": after}

    def hit(path: Any) -> bool:
        if not _under(path, folder) or match not in Path(os.fsdecode(path)).name:
            return False
        if spared["left"] > 0:
            spared["left"] -= 1
            return False
        return True
    real_open, real_os_open, real_write, real_replace = builtins.open, os.open, os.write, os.replace
    real_mkdir, real_close = os.mkdir, os.close
    doomed_fds: set[int] = set()

    def fail(code: int, path: Any = None) -> OSError:
        hits["count"] += 1
        return OSError(code, os.strerror(code), *([os.fsdecode(path)] if path is not None else []))

    if kind == "replace":
        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            if hit(dst):
                raise fail(errno.EIO)
            real_replace(src, dst, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
    elif kind == "disk-full":
        def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            fd = real_os_open(path, flags, *args, **kwargs)
            if flags & _WRITE_FLAGS and hit(path):
                doomed_fds.add(fd)
            return fd

        def write(fd: int, data: Any) -> int:
            if fd in doomed_fds:
                raise fail(errno.ENOSPC)
            return real_write(fd, data)

        def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(file, mode, *args, **kwargs)
            if isinstance(file, str | os.PathLike) and set(mode) & set("wax+") and hit(file):
                hits["count"] += 1
                return _FullFile(handle)
            return handle

        def close(fd: int) -> None:
            doomed_fds.discard(fd)  # the number may be reused by a file elsewhere
            real_close(fd)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "close", close)
        monkeypatch.setattr(builtins, "open", open_)
    elif kind == "read-only":
        def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & _WRITE_FLAGS and hit(path):
                raise fail(errno.EROFS, path)
            return real_os_open(path, flags, *args, **kwargs)

        def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike) and set(mode) & set("wax+") and hit(file):
                raise fail(errno.EROFS, file)
            return real_open(file, mode, *args, **kwargs)

        def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
            if not Path(os.fsdecode(path)).exists() and hit(path):
                raise fail(errno.EROFS, path)
            real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(os, "mkdir", mkdir)
        monkeypatch.setattr(builtins, "open", open_)
    else:
        raise ValueError(kind)
    return hits


def temp_files(folder: Path) -> list[Path]:
    """Temporary files of the atomic writer left under `folder`."""
    return [p for p in Path(folder).rglob(".*.tmp")]


@contextlib.contextmanager
def tmpfs(folder: Path, size_kb: int = 64) -> Iterator[Path]:
    """A real tmpfs of `size_kb` mounted on `folder` (root on Linux only; skips otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> None:
    """Fills the file system of `folder` to the last byte."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()
    with contextlib.suppress(OSError), open(folder / "filler2", "wb") as f:
        while True:
            f.write(b"\0")
            f.flush()


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)

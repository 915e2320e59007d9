"""The one atomic writer: old or new file, never torn, never a leftover temporary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from flowscript.nodes.io import atomic
from flowscript.nodes.io.atomic import atomic_write_bytes


def test_writes_new_file_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.bin"
    atomic_write_bytes(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert os.listdir(target.parent) == ["c.bin"]


def test_replaces_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_bytes(b"old content that is longer")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["x.txt"]


def test_failure_before_replace_keeps_old_file_and_removes_temp(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    seen: list[str] = []

    def failing_replace(src: str, dst: str) -> None:
        seen.append(Path(src).read_bytes().decode())  # the new data was fully written first
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"new data")
    assert seen == ["new data"]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["state.json"]


def test_failure_while_writing_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.txt"

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"data")
    assert os.listdir(tmp_path) == []


def test_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "script.sh"
    target.write_bytes(b"old")
    target.chmod(0o751)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


def test_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "x", b"1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o644


def test_without_make_parents_a_missing_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "missing" / "x", b"1", make_parents=False)
    assert not (tmp_path / "missing").exists()

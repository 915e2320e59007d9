"""The working-directory sandbox: relative paths only, never outside (docs/language.md#files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowscript.errors import FileError
from flowscript.expressions import compile_template
from flowscript.nodes.io.paths import display_path, resolve_sandboxed


def test_relative_path_resolves_inside_workdir(tmp_path: Path) -> None:
    assert resolve_sandboxed("./data/x.json", tmp_path) == tmp_path.resolve() / "data" / "x.json"
    assert resolve_sandboxed("a/./b.txt", tmp_path) == tmp_path.resolve() / "a" / "b.txt"


@pytest.mark.parametrize("path", ["../x.json", "data/../../x", "a/..", "..", "data\\..\\x", "./a/../b"])
def test_dotdot_components_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(FileError) as info:
        resolve_sandboxed(path, tmp_path)
    assert "'..'" in info.value.message and repr(path) in info.value.message
    assert info.value.hint and "relative" in info.value.hint
    assert info.value.code == "RUN_FILE_ERROR" and not info.value.retryable


@pytest.mark.parametrize("path", ["/etc/passwd", "\\share\\x", "C:/x", "~/x"])
def test_absolute_paths_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(FileError, match="absolute"):
        resolve_sandboxed(path, tmp_path)


def test_absolute_path_inside_workdir_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="absolute"):
        resolve_sandboxed(str(tmp_path / "x.json"), tmp_path)


@pytest.mark.parametrize("path", ["", "   "])
def test_empty_path_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(FileError, match="non-empty"):
        resolve_sandboxed(path, tmp_path)


def test_symlink_leading_outside_is_refused(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    os.symlink(outside, work / "link")
    with pytest.raises(FileError, match="outside the working directory"):
        resolve_sandboxed("link/secret.txt", work)
    os.symlink(outside / "secret.txt", work / "file-link")
    with pytest.raises(FileError, match="outside"):
        resolve_sandboxed("file-link", work)


def test_symlink_staying_inside_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert resolve_sandboxed("alias/x.json", tmp_path) == tmp_path.resolve() / "real" / "x.json"


def test_dangling_symlink_to_outside_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(tmp_path / "not-yet" / "x.json", work / "out.json")
    with pytest.raises(FileError, match="outside"):
        resolve_sandboxed("out.json", work)


def test_templated_path_resolving_to_dotdot_is_refused(tmp_path: Path) -> None:
    template = compile_template("./data/{{ $config.name }}.json")
    path = template.render({"$config": {"name": "../../etc/passwd"}})
    assert path == "./data/../../etc/passwd.json"
    with pytest.raises(FileError, match=r"'\.\.'"):
        resolve_sandboxed(path, tmp_path)


def test_display_path_normalises_what_was_given() -> None:
    assert display_path("./out//nested/./a.json") == "out/nested/a.json"
    assert display_path("a.txt") == "a.txt"

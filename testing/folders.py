"""A workflow and the data files it reads, copied into a test's folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flowscript.compiler.data_files import read_paths
from flowscript.compiler.parser import parse_workflow_file


def copy_workflow(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Path:
    """Copies the workflow file and the files its file sources read (a folder for a templated
    path) into `folder`, at the same relative places; returns the copy's path."""
    source, target = Path(path), Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    files, folders = read_paths(parse_workflow_file(source))
    for relative in [*files, *folders]:
        found = source.parent / relative
        if found.is_dir():
            shutil.copytree(found, target / relative, dirs_exist_ok=True)
        elif found.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, target / relative)
    copy = target / source.name
    shutil.copy2(source, copy)
    return copy

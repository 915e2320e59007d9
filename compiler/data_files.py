"""The files a workflow reads from its folder: what travels with it to a worker
(docs/deploying.md#what-a-deployment-carries) or to a test's temporary folder.

A file source's literal `path` is one file; a templated one (`./data/{{$config.day}}.json`)
may be any file under the literal folder before its first `{{` (`./data`). Paths are relative
to the workflow file's folder (the run's working folder); one that leaves it (absolute, or
with `..`) is left out: a run refuses it anyway.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from flowscript.compiler.ast import Workflow
from flowscript.nodes.base import walk
from flowscript.nodes.data import SourceNode


def read_paths(workflow: Workflow) -> tuple[list[str], list[str]]:
    """(files, folders): the literal paths file sources read, and the folders under which a
    templated path may point (`.` for the workflow's folder itself), sorted."""
    files: set[str] = set()
    folders: set[str] = set()
    for node in walk(workflow.nodes):
        path = node.config.get("path") if isinstance(node, SourceNode) and node.type == "file" else None
        if not isinstance(path, str) or not path.strip():
            continue
        if "{{" in path:
            literal = path[: path.index("{{")]
            clean = _inside(literal[: literal.rfind("/") + 1] if "/" in literal else "")
            if clean is not None:
                folders.add(clean or ".")
        else:
            clean = _inside(path)
            if clean:
                files.add(clean)
    return sorted(files), sorted(folders)


def _inside(path: str) -> str | None:
    """The path relative to the workflow's folder, `a/b` style; None when it leaves the folder."""
    pure = PurePosixPath(path.strip().replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        return None
    return "/".join(p for p in pure.parts if p != ".")

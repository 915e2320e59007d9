"""The files a workflow reads from its folder: what a deployment carries to a worker with it
(docs/deploying.md#what-a-deployment-carries).

A file source's literal `path` is one file; a templated one (`./data/{{$config.day}}.json`)
may be any file under the literal folder before its first `{{` (`./data`). Paths are relative
to the workflow file's folder (the run's working folder), which they never leave.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from flowscript.compiler.ast import Workflow
from flowscript.nodes.base import walk
from flowscript.nodes.file_source import FileSource


def read_paths(workflow: Workflow) -> tuple[list[str], list[str]]:
    """(files, folders): the literal paths file sources read, and the folders under which a
    templated path may point, each relative to the workflow's folder (`.` for the folder itself)."""
    files: list[str] = []
    folders: list[str] = []
    for node in walk(workflow.nodes):
        if not isinstance(node, FileSource):
            continue
        path = node.config.get("path")
        if not isinstance(path, str) or not path.strip():
            continue
        if "{{" in path:
            literal = path[: path.index("{{")]
            folder = literal[: literal.rfind("/") + 1] if "/" in literal else ""
            folders.append(_clean(folder) or ".")
        else:
            files.append(_clean(path))
    return sorted(set(files)), sorted(set(folders))


def _clean(path: str) -> str:
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in (".", "/")]
    return "/".join(parts)

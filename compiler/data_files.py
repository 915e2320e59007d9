"""The files a workflow reads: what travels with it to a test's temporary folder or to a
worker (its file sources' paths, relative to its folder)."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from flowscript.compiler.ast import Workflow
from flowscript.nodes.base import walk
from flowscript.nodes.data import SourceNode


def data_files(workflow: Workflow) -> list[str]:
    """Relative paths a workflow's file sources read, in file order: a literal path as written;
    for a path that is a template, the folder before its first `{{` (all it may name is there).
    A path that leaves the folder (absolute, or with `..`) is left out: a run refuses it anyway."""
    found: dict[str, None] = {}
    for node in walk(workflow.nodes):
        path = node.config.get("path") if isinstance(node, SourceNode) and node.type == "file" else None
        if not isinstance(path, str) or not path.strip():
            continue
        literal = path.split("{{", 1)[0] if "{{" in path else path
        if "{{" in path:
            literal = literal.rsplit("/", 1)[0] if "/" in literal else ""
        clean = PurePosixPath(literal.strip().replace(os.sep, "/"))
        if clean.is_absolute() or ".." in clean.parts:
            continue
        found[str(clean) if str(clean) != "." else ""] = None
    return list(found)

"""The `## Graph` section of a .flow.md file: a Mermaid diagram of the workflow that
`flowscript plan --write-graph` keeps after `</workflow>`. Like the execution log, it is
written by a program, so it is not part of the workflow: the file's fingerprint leaves it out
(a resume does not see a changed workflow because the graph was redrawn)."""

from __future__ import annotations

import re

_OPEN = "<!-- flowscript:graph (`flowscript plan --write-graph` keeps this section; it is not part of the workflow) -->"
_CLOSE = "<!-- /flowscript:graph -->"
_SECTION = re.compile(r"\n\n## Graph\n\n<!-- flowscript:graph .*?<!-- /flowscript:graph -->", re.DOTALL)


def without_graph(document: str) -> str:
    """The document as it was before its graph section was written."""
    return _SECTION.sub("", document)


def with_graph(document: str, diagram: str) -> str:
    """The document with its graph section holding `diagram`: replaced where it is, else
    written right after `</workflow>`."""
    section = f"\n\n## Graph\n\n{_OPEN}\n```mermaid\n{diagram}\n```\n{_CLOSE}"
    found = _SECTION.search(document)
    if found:
        return document[:found.start()] + section + document[found.end():]
    end = document.find("</workflow>")
    if end < 0:
        return document.rstrip("\n") + section + "\n"
    end += len("</workflow>")
    return document[:end] + section + document[end:]

"""Where a .flow.md file's execution log section starts (docs/language.md#the-execution-log).

The engine rewrites that section after every run, so it is not part of the workflow: the
parser leaves it out of the file's fingerprint (a resume must not see a changed workflow
because the last run wrote its log) and the log writer replaces it.
"""

from __future__ import annotations

import hashlib
import re

from flowscript.syntax.graph_section import without_graph

_LOG_START = re.compile(r"^---[ \t]*\r?\n\s*## Execution Log[ \t]*\r?$", re.MULTILINE)


def log_section_start(document: str) -> int | None:
    """Offset of the `---` that opens the log section after `</workflow>`, or None."""
    body_end = document.find("</workflow>")
    match = _LOG_START.search(document, body_end if body_end >= 0 else 0)
    return match.start() if match else None


def workflow_fingerprint(document: str) -> str:
    """sha256 of the document without its execution log section (and the blank lines before it,
    which the log writer adds) and without its graph section (graph_section.py)."""
    start = log_section_start(document)
    kept = without_graph(document if start is None else document[:start]).rstrip()
    return hashlib.sha256(kept.encode("utf-8", "surrogatepass")).hexdigest()

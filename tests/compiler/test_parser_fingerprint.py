"""The workflow fingerprint ignores the execution log, so a run's own log never blocks its resume."""

from __future__ import annotations

from flowscript.compiler.parser import parse_workflow_text
from flowscript.runtime.markdown_log import with_log

DOC = "---\nname: f\nversion: 1.0\n---\n<workflow>\n<source id=\"a\" type=\"file\" path=\"a.json\"/>\n</workflow>\n"
LOG = "---\n\n## Execution Log\n\n**Run ID:** `x`\n"


def fingerprint(text: str) -> str:
    return parse_workflow_text(text).source_sha256


def test_writing_or_replacing_the_log_keeps_the_fingerprint():
    once = with_log(DOC, LOG)
    twice = with_log(once, LOG.replace("`x`", "`y`"))
    assert fingerprint(DOC) == fingerprint(once) == fingerprint(twice)


def test_an_edit_to_the_workflow_changes_it():
    assert fingerprint(DOC) != fingerprint(DOC.replace("a.json", "b.json"))
    assert fingerprint(DOC) != fingerprint(DOC.replace("<workflow>", "Some notes.\n<workflow>"))

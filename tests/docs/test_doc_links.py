"""The code and the docs cite the repository's own documents: every `docs/<page>.md#<anchor>` (and
every Markdown link) names a file that exists and a heading it has, and no file cites a
document the repository does not hold."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_CITED = re.compile(r"(?<![\w/.])((?:docs/[\w.-]+|README)\.md)(?:#([\w-]+))?")
_LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)")
_OUTSIDE = re.compile(r"FLOWSCRIPT\.md|PRODUCT\.md|\bseed [0-9]\.[0-9]|\bthe seed\b|\bseed's\b")


def slug(text: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to '-'."""
    text = re.sub(r"`([^`]*)`", r"\1", text.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    fence: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        mark = re.match(r"^\s*(```+|~~~+)", line)
        if mark:
            fence = mark.group(1)[:3] if fence is None else (None if mark.group(1).startswith(fence) else fence)
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line) if fence is None else None
        if heading:
            name = slug(heading.group(1))
            found.add(name if name not in counts else f"{name}-{counts[name]}")
            counts[name] = counts.get(name, 0) + 1
    return found


def tracked_texts() -> list[tuple[str, str]]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    texts = []
    for name in names:
        path = REPO / name
        if path.suffix in (".py", ".md", ".toml") and path.is_file():
            texts.append((name, path.read_text(encoding="utf-8")))
    return texts


def test_every_cited_document_and_heading_exists() -> None:
    headings: dict[Path, set[str]] = {}
    problems = []
    for name, text in tracked_texts():
        path = REPO / name
        refs = [(REPO / m.group(1), m.group(2), m.start()) for m in _CITED.finditer(text)]
        if path.suffix == ".md":
            refs += [((path.parent / m.group(1)) if m.group(1) else path, m.group(2), m.start())
                     for m in _LINK.finditer(text)
                     if not m.group(1).startswith(("http:", "https:", "mailto:"))
                     and (not m.group(1) or m.group(1).endswith(".md"))]
        for target, anchor, at in refs:
            where = f"{name}:{text.count(chr(10), 0, at) + 1}"
            target = target.resolve()
            if not target.is_file():
                problems.append(f"{where}: no file {target}")
            elif anchor is not None and anchor not in headings.setdefault(target, anchors(target)):
                problems.append(f"{where}: no heading #{anchor} in {target.relative_to(REPO)}")
    assert problems == []


def test_nothing_cites_a_document_outside_the_repository() -> None:
    cited = [f"{name}: {m.group(0)}" for name, text in tracked_texts() if name != "tests/docs/test_doc_links.py"
             for m in _OUTSIDE.finditer(text)]
    assert cited == []

"""The expressions of the shared conformance cases 18-functions and 03-template-values give
exactly the expected outputs (here without running the whole CLI)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from flowscript.expressions import compile_expression, compile_template

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
FUNCTIONS_CASE = CONFORMANCE / "18-functions"
TEMPLATE_CASE = CONFORMANCE / "03-template-values"

pytestmark = pytest.mark.skipif(not FUNCTIONS_CASE.exists(), reason="shared conformance suite not present")


def _transforms() -> list[tuple[str, str]]:
    if not FUNCTIONS_CASE.exists():
        return []
    text = (FUNCTIONS_CASE / "workflow.flow.md").read_text(encoding="utf-8")
    pattern = r'<transform id="([\w-]+)" type="map" input="doc" expression="(.*?)"/>'
    return [(m.group(1), html.unescape(m.group(2))) for m in re.finditer(pattern, text)]


@pytest.mark.parametrize(("node", "expression"), _transforms())
def test_functions_case(node: str, expression: str) -> None:
    doc = json.loads((FUNCTIONS_CASE / "data" / "doc.json").read_text(encoding="utf-8"))
    expected = json.loads((FUNCTIONS_CASE / "expected" / "out" / f"{node}.json").read_text(encoding="utf-8"))
    result: Any = compile_expression(expression).evaluate({"$item": doc, "$index": 0, "$items": [doc],
                                                           "$first": True, "$last": True})
    assert json.loads(json.dumps(result)) == expected


def test_template_case() -> None:
    text = (TEMPLATE_CASE / "workflow.flow.md").read_text(encoding="utf-8")
    template = html.unescape(re.search(r"<template>(.*?)</template>", text, re.S).group(1))  # type: ignore[union-attr]
    doc = json.loads((TEMPLATE_CASE / "data" / "doc.json").read_text(encoding="utf-8"))
    scope = {"input": doc, "doc": {"output": doc}, "$config": {"num": 4, "who": "world"}}
    expected = (TEMPLATE_CASE / "expected" / "out" / "render.txt").read_text(encoding="utf-8")
    expected = expected.removesuffix("\n")
    assert compile_template(template).render(scope) == expected
    assert compile_template("./out/{{$config.who}}-{{1 + 1}}.txt").render(scope) == "./out/world-2.txt"

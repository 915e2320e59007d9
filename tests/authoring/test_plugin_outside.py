"""The plugin as a workflow author meets it: a pytest project outside this repository (one
workflow, one test file, the package installed) that uses only the public API, the plugin's
fixtures and respx."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORKFLOW = """---
name: greet
version: 1.0.0
secrets: [API_KEY]
---
<workflow>
  <source id="people" type="http" url="https://people.example.com/v1/people">
    <on-error><retry max="3" base="2000"/></on-error>
  </source>
  <source id="settings" type="file" path="data/settings.json"/>
  <transform id="greeting" type="template" input="people">
    <template>{{settings.output.word}}, {{join(map(input, p => p.name), ' and ')}}!</template>
  </transform>
  <transform id="summary" type="ai" input="greeting">
    <model>any/model</model>
    <user>Shorten: {{input}}</user>
    <output-schema>{text: string}</output-schema>
  </transform>
  <sink id="save" type="file" input="summary" path="out/summary.json"/>
</workflow>
"""

TEST = """
import httpx
from flowscript import RunResult
from flowscript.testing import assert_output


def test_greet(flowscript_run, ai, respx_mock):
    respx_mock.get("https://people.example.com/v1/people").mock(side_effect=[
        httpx.Response(503), httpx.Response(200, json=[{{"name": "Ada"}}, {{"name": "Cy"}}])])
    ai.reply({{"text": "Hi both"}}, node="summary")
    result: RunResult = flowscript_run("greet.flow.md", secrets={{"API_KEY": "test-key"}})
    assert result.status == "completed", result.error
    assert_output(result, "greeting", {expected!r})
    assert ai.prompts("summary") == ["Shorten: Hello, Ada and Cy!"]
    assert list(result.files) == ["out/summary.json"]
"""


def _project(folder: Path, expected: str) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "settings.json").write_text('{"word": "Hello"}')
    (folder / "greet.flow.md").write_text(WORKFLOW)
    (folder / "test_greet.py").write_text(textwrap.dedent(TEST.format(expected=expected)))
    return folder


def _pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
                           "ignore::pytest.PytestAssertRewriteWarning"], cwd=folder, capture_output=True, text=True,
                          timeout=180)


def test_a_project_of_its_own_runs_green(tmp_path):
    done = _pytest(_project(tmp_path / "green", "Hello, Ada and Cy!"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_wrong_expected_value_fails_naming_the_node(tmp_path):
    done = _pytest(_project(tmp_path / "red", "Hello, Ada!"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "node 'greeting' output differs" in done.stdout
    assert 'expected: "Hello, Ada!"' in done.stdout and 'got:      "Hello, Ada and Cy!"' in done.stdout

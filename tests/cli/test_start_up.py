"""Start-up guard (docs/benchmarks.md, "Start-up"): a process loads only what its workflow
uses. Not a timed test: it asserts which modules a real process imported, which is what the
milliseconds come from, so a stray top-level import fails here whatever the machine's load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("prefect", "pydantic", "httpx", "rich", "jsonschema", "anyio", "dask", "distributed")
UNUSED_KINDS = ("http_source", "http_sink", "ai_transform", "map_transform", "filter_transform", "if_node",
                "branch", "loop", "while_node", "foreach", "parallel", "checkpoint")

HELLO = """---
name: hello
version: 1.0.0
---
<workflow>
  <source id="read" type="file"><path>in.json</path></source>
  <transform id="greet" type="template" input="read"><template>{{input.greeting}}, {{input.who}}!</template></transform>
  <sink id="save" type="file" input="greet"><path>out.txt</path></sink>
</workflow>
"""

FETCH = """---
name: fetch
version: 1.0.0
---
<workflow>
  <source id="get" type="http"><url>http://127.0.0.1:9/nothing</url></source>
</workflow>
"""

# Runs a command line in a fresh interpreter, then lists every module it imported.
PROBE = """
import json, sys
from flowscript.cli.app import run
code = run(sys.argv[2:])
json.dump({"code": code, "modules": sorted(sys.modules)}, open(sys.argv[1], "w"))
"""

API_PROBE = """
import json, sys
import flowscript
result = flowscript.run_workflow(sys.argv[2])
json.dump({"code": 0 if result.status == "completed" else 1, "modules": sorted(sys.modules)}, open(sys.argv[1], "w"))
"""


def imported(tmp_path: Path, probe: str, *args: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", probe, str(out), *args], cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)
    report = json.loads(out.read_text())
    return report["code"], set(report["modules"])


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The modules of these packages (not our stand-in for httpx's command line: nodes/io/__init__.py)."""
    return sorted(m for m in modules if m.split(".")[0] in packages and m != "httpx._main")


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    (tmp_path / "in.json").write_text('{"greeting": "Hello", "who": "world"}')
    flow = tmp_path / "hello.flow.md"
    flow.write_text(HELLO)
    return flow


def test_a_local_run_of_file_and_template_nodes_loads_nothing_else(tmp_path: Path, hello: Path) -> None:
    code, modules = imported(tmp_path, PROBE, "run", "--local", hello.name, "--no-log")
    assert code == 0 and (tmp_path / "out.txt").read_text() == "Hello, world!"
    assert loaded(modules, HEAVY) == []
    assert sorted(m for m in modules if m.rpartition(".")[2] in UNUSED_KINDS) == []
    # a template without a function call never loads the function library or its libraries
    assert [m for m in modules if m.startswith("flowscript.expressions.functions.")] == [
        "flowscript.expressions.functions.registry"]
    assert loaded(modules, ("regex", "dateutil", "isodate", "zoneinfo", "cronsim", "decimal", "difflib")) == []


def test_an_http_node_loads_httpx_but_not_the_ai_libraries(tmp_path: Path) -> None:
    (tmp_path / "fetch.flow.md").write_text(FETCH)
    code, modules = imported(tmp_path, PROBE, "run", "--local", "fetch.flow.md", "--no-log", "--no-retry")
    assert code == 1  # nothing listens on port 9
    assert "httpx" in modules and "flowscript.nodes.http_source" in modules
    assert loaded(modules, ("click", "pygments")) == []  # httpx's command line stays unloaded
    assert loaded(modules, ("prefect", "pydantic", "jsonschema", "rich")) == []


def test_the_python_api_runs_without_prefect(tmp_path: Path, hello: Path) -> None:
    code, modules = imported(tmp_path, API_PROBE, hello.name)
    assert code == 0
    assert loaded(modules, HEAVY) == []


def test_version_and_help_load_no_engine(tmp_path: Path) -> None:
    for args in (["--version"], ["run", "--help"]):
        _, modules = imported(tmp_path, PROBE, *args)
        assert loaded(modules, (*HEAVY, "asyncio", "yaml")) == []
        assert not any(m.startswith(("flowscript.runtime", "flowscript.compiler", "flowscript.nodes"))
                       for m in modules), args

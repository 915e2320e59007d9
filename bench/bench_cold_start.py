"""Benchmark of a cold command-line start (a script, not a test): python bench/bench_cold_start.py

Times `flowscript run --local FILE` of a 3-node workflow (file source of a small JSON
array -> map transform -> file sink), run as a fresh process in a temporary folder, and
`flowscript validate FILE` the same way; each figure is the median of RUNS runs, next to
the bare interpreter start-up and to what `import prefect` alone would cost. Then proves
that a local run never imports prefect (runs the CLI's `main` in a fresh interpreter and
checks sys.modules afterwards) and sums the import time of a local run by package, ours
by subpackage (`python -X importtime`). Prints the figures.

The package's bytecode is compiled first, as pip does when it installs a wheel: with
PYTHONDONTWRITEBYTECODE set, an editable checkout would otherwise compile every module of
every run (a third of a small run's time).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
BIN = Path(sys.executable).parent  # the venv's bin: python and the flowscript console script
FLOWSCRIPT = str(BIN / "flowscript")
PYTHON = sys.executable
WORKFLOW = """---
name: cold-start
version: 1.0
---

# Cold start

<workflow>
  <source id="read" type="file" path="./data/in.json"/>
  <transform id="double" type="map" input="read" expression="{id: $item.id, twice: $item.n * 2}"/>
  <sink id="save" type="file" input="double" path="./out/result.json"/>
</workflow>
"""
FLOOR = "import asyncio, json, yaml"  # the engine is asyncio; the frontmatter YAML
IN_PROCESS = """
import json, sys
sys.argv = ["flowscript", "run", "--local", "cold.flow.md"]
from flowscript.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
prefect = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
print(json.dumps({"exit": code, "prefect": prefect, "modules": len(sys.modules)}))
"""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def timed(args: list[str], cwd: Path, rounds: int = RUNS) -> tuple[float, float]:
    """(median, min) seconds of `rounds` runs of a fresh process; every run must succeed."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        done = run(args, cwd)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return statistics.median(times), min(times)


def setup(folder: Path) -> None:
    (folder / "data").mkdir()
    (folder / "data" / "in.json").write_text(json.dumps([{"id": i, "n": i * 3} for i in range(5)]))
    (folder / "cold.flow.md").write_text(WORKFLOW, encoding="utf-8")


def heaviest_imports(folder: Path, count: int = 14) -> list[tuple[float, str]]:
    """Import time of a local run (ms, -X importtime self times) summed by top-level package."""
    done = run([PYTHON, "-X", "importtime", "-c", IN_PROCESS], folder)
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "flowscript" else parts[0]
        by_package[package] = by_package.get(package, 0.0) + int(own) / 1000
    return sorted(((ms, name) for name, ms in by_package.items()), reverse=True)[:count]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flowscript-bench-") as tmp:
        folder = Path(tmp)
        setup(folder)
        import flowscript

        run([PYTHON, "-m", "compileall", "-q", str(Path(flowscript.__file__).parent)], folder)
        run([FLOWSCRIPT, "run", "--local", "cold.flow.md"], folder)  # warm the OS file cache and .pyc files
        python_s, _ = timed([PYTHON, "-c", "pass"], folder)
        floor_s, _ = timed([PYTHON, "-c", FLOOR], folder)
        run_s, run_min = timed([FLOWSCRIPT, "run", "--local", "cold.flow.md"], folder)
        validate_s, validate_min = timed([FLOWSCRIPT, "validate", "cold.flow.md"], folder)
        prefect_s, _ = timed([PYTHON, "-c", "import prefect"], folder, rounds=3)
        result = json.loads((folder / "out" / "result.json").read_text())
        assert result[4] == {"id": 4, "twice": 24}, result

        print(f"cold start, median of {RUNS} fresh processes (min in brackets):")
        print(f"  python -c pass                    {python_s:6.3f} s")
        print(f"  python -c '{FLOOR}'  {floor_s:6.3f} s  (the libraries every run needs)")
        print(f"  flowscript run --local (3 nodes)  {run_s:6.3f} s  ({run_min:.3f})")
        print(f"  flowscript validate               {validate_s:6.3f} s  ({validate_min:.3f})")
        print(f"  python -c 'import prefect'        {prefect_s:6.3f} s  (median of 3; what a local run avoids)")

        done = run([PYTHON, "-c", IN_PROCESS], folder)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        verdict = "NOT imported" if not report["prefect"] else f"IMPORTED: {', '.join(report['prefect'][:5])}"
        print(f"prefect during a local run: {verdict} (run exit code {report['exit']}, "
              f"{report['modules']} modules loaded)")
        print("import time of a local run by package (-X importtime, which inflates it):")
        for ms, name in heaviest_imports(folder):
            print(f"  {ms:6.1f} ms  {name}")
        if report["prefect"] or report["exit"] != 0:
            sys.exit(1)


if __name__ == "__main__":
    main()

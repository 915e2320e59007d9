#!/usr/bin/env python3
"""The Python API's cost per run (docs/testing.md): 100 runs of a small workflow in one process.

Three ways, alternating in each round, median per run:
  engine        the engine on an already loaded plan (the work itself: Engine.run, local backend)
  run_workflow  flowscript.run_workflow(path): reading and checking the file, typing the config,
                the run, and the RunResult with its log text
  plugin        what the pytest plugin's flowscript_run adds: a copy of the workflow and its data
                file in a fresh folder first
usage: bench_api.py [--runs 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

FLOW = """---
name: small
version: 1.0.0
config:
  greeting: {type: string, default: Hello}
---
<workflow>
  <source id="people" type="file" path="data/people.json"/>
  <transform id="names" type="map" input="people" expression="$item.name"/>
  <transform id="line" type="template" input="names">
    <template>{{$config.greeting}}, {{join(input, ", ")}}!</template>
  </transform>
  <sink id="save" type="file" input="line" path="out/line.txt"/>
</workflow>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from flowscript import run_workflow
    from flowscript.compiler.loader import load_workflow
    from flowscript.runtime.engine import Engine, RunOptions
    from flowscript.runtime.local_backend import LocalBackend
    from flowscript.testing import copy_workflow

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "flow"
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "people.json").write_text('[{"name": "Ada"}, {"name": "Cy"}]')
        path = folder / "small.flow.md"
        path.write_text(FLOW)
        plan = load_workflow(path).plan

        def engine() -> None:
            run = Engine(plan, LocalBackend(), RunOptions(state_dir=None, write_log=False, workdir=folder))
            asyncio.run(run.run(run.new_state({"greeting": "Hello"}), {}))

        def api() -> None:
            assert run_workflow(path).status == "completed"

        def plugin() -> None:
            target = Path(tempfile.mkdtemp(dir=tmp))
            assert run_workflow(copy_workflow(path, target), instant_retries=True, workdir=target).ok
            shutil.rmtree(target)

        ways = {"engine": engine, "run_workflow": api, "plugin": plugin}
        for way in ways.values():
            way()  # warm-up
        per_run: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                t0 = time.perf_counter()
                for _ in range(args.runs):
                    way()
                per_run[name].append((time.perf_counter() - t0) / args.runs * 1000)
    print(f"{args.runs} runs x {args.rounds} rounds, median ms per run:")
    base = statistics.median(per_run["engine"])
    for name, values in per_run.items():
        median = statistics.median(values)
        extra = "" if name == "engine" else f"  (+{median - base:.2f} ms beyond the engine's run)"
        print(f"  {name:<13} {median:6.2f} ms{extra}")


if __name__ == "__main__":
    main()

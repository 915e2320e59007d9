#!/usr/bin/env python3
"""A CPU-bound foreach through Prefect: `--task-runner dask` with 2 worker processes against
`--task-runner thread`, paired in each round (docs/benchmarks.md, "Scaling out").

The workflow: 200 items, each iteration a template that maps and sums 20,000 numbers in the
expression language (pure Python: in one process the iterations take turns on the GIL).
Above 100 items the Prefect backend runs a foreach in chunks of iterations; the chunks of a
concurrent foreach run at once, so two workers each take one. Variants, each a whole flow
run on the same API (Prefect's SQLite test harness), in a shuffled order each round:

  thread         --task-runner thread (the default): everything in the flow's process
  dask-local     --task-runner dask: a temporary LocalCluster of 2 worker processes, started
                 by the run (its start-up is part of the figure)
  dask-external  --task-runner dask --dask-address: a cluster of 2 workers started once

Prints wall seconds per variant and the per-round ratio thread / dask (above 1: dask faster),
median [quartiles]. usage: bench_scaleout.py [--rounds 5] [--items 200] [--numbers 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "scaleout"))
from prefect_servers import sqlite_harness

FLOW = """---
name: bench-crunch
version: 1.0.0
---
<workflow>
  <transform id="numbers" type="map" expression="range(0, {numbers})"/>
  <foreach id="each" collection="range(0, {items})" concurrency="10">
    <transform id="crunch" type="template">
      <template>{{{{sum(map(numbers.output, x => (x * item + 7) % 13))}}}}</template>
    </transform>
  </foreach>
</workflow>
"""


async def one_run(path: Path, runner: object) -> float:
    from prefect_support import run_on_prefect

    t0 = time.perf_counter()
    outcome = await run_on_prefect(path, runner=runner, state_dir=path.parent / ".state", write_log=False)
    seconds = time.perf_counter() - t0
    if outcome.status != "completed":
        raise SystemExit(f"run failed: {outcome.failure}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--numbers", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
    from dask_support import external_cluster

    from flowscript.prefect_backend.task_runners import TaskRunnerChoice

    with tempfile.TemporaryDirectory() as tmp, sqlite_harness(), external_cluster(Path(tmp) / "cluster") as cluster:
        path = Path(tmp) / "crunch.flow.md"
        path.write_text(FLOW.format(items=args.items, numbers=args.numbers))
        variants = {"thread": TaskRunnerChoice(), "dask-local": TaskRunnerChoice.of("dask", dask_workers=2),
                    "dask-external": TaskRunnerChoice.of("dask", cluster.address)}
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = random.Random(20261203)
        for name in ("thread", "dask-external"):  # warm-up: imports, the flow, the API, the workers' imports
            asyncio.run(one_run(path, variants[name]))
        for round_number in range(args.rounds):
            names = list(variants)
            order.shuffle(names)
            for name in names:
                times[name].append(asyncio.run(one_run(path, variants[name])))
            print(f"round {round_number + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in variants), flush=True)
    print(f"\n{args.items} items x {args.numbers:,} numbers, {args.rounds} rounds, median wall seconds:")
    for name, values in times.items():
        print(f"  {name:<14} {statistics.median(values):6.2f}s")
    for name in ("dask-local", "dask-external"):
        ratios = sorted(t / d for t, d in zip(times["thread"], times[name], strict=True))
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        print(f"  thread / {name:<14} {statistics.median(ratios):.2f} [{quartiles[0]:.2f}-{quartiles[2]:.2f}]")


if __name__ == "__main__":
    main()

"""Benchmark of data throughput (a script, not a test): python bench/bench_throughput.py

A file source of N records (a JSON array of objects) -> a filter transform (a condition
on $item) -> a map transform (an object-literal expression) -> a file sink, for N =
1,000, 10,000 and 100,000, run in this process through the engine with the local
backend. Each N runs with the state file (as `flowscript run --local --no-log` does) and
without it (`state_dir=None`), so the cost of persisting every node's output shows
apart from the cost of reading, transforming and writing. Prints seconds, records/s and
µs per record: the µs per record should stay roughly flat as N grows (linear scaling).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from local_run import timed_run

SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3  # median of this many runs
WORKFLOW = """---
name: throughput
version: 1.0
---

# Throughput

<workflow>
  <source id="orders" type="file" path="./data/orders.json"/>
  <transform id="big" type="filter" input="orders" condition="$item.total > 50 && $item.status == 'paid'"/>
  <transform id="rows" type="map" input="big"
             expression="{id: $item.id, customer: upper($item.customer), net: round($item.total * 0.8, 2)}"/>
  <sink id="save" type="file" input="rows" path="./out/rows.json"/>
</workflow>
"""


def records(n: int) -> list[dict[str, object]]:
    statuses = ("paid", "paid", "paid", "refunded", "open")
    return [{"id": i, "customer": f"customer-{i % 997}", "total": round((i * 37) % 200 + 0.5, 2),
             "status": statuses[i % len(statuses)], "items": [{"sku": f"s{i % 13}", "qty": 1 + i % 4}]}
            for i in range(n)]


def run_once(path: Path, state: bool) -> float:
    return timed_run(path, state=state)[0]


def main() -> None:
    print("file source -> filter -> map -> file sink")
    print(f"  {'records':>8}  {'kept':>7}  {'mode':<13} {'seconds':>8}  {'records/s':>10}  {'µs/record':>9}")
    with tempfile.TemporaryDirectory(prefix="flowscript-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "throughput.flow.md"
        path.write_text(WORKFLOW, encoding="utf-8")
        (folder / "data").mkdir()
        for n in SIZES:
            (folder / "data" / "orders.json").write_text(json.dumps(records(n)), encoding="utf-8")
            for mode, state in (("state file", True), ("no state", False)):
                seconds = statistics.median(run_once(path, state) for _ in range(ROUNDS))
                kept = len(json.loads((folder / "out" / "rows.json").read_text(encoding="utf-8")))
                print(f"  {n:>8,}  {kept:>7,}  {mode:<13} {seconds:8.3f}  {n / seconds:10,.0f}  "
                      f"{seconds / n * 1e6:9.2f}")


if __name__ == "__main__":
    main()

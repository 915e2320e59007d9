"""Benchmark of the compiler (a script, not a test): python bench/bench_planner.py

Writes a 10,000-node workflow to a temporary folder (a realistic mix: chains, fan-out and
fan-in, template transforms naming other nodes with `{{other.output}}`, and nested if,
foreach and parallel nodes) and times reading it (`parse_workflow_file`), planning it
(`build_plan`) and the whole `load_workflow` (parse + validate + plan). Then times plain
chains of 1,000, 10,000 and 20,000 template transforms to show that the compiler scales
linearly: the time per node should stay flat. Prints the figures.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowscript.compiler.loader import load_workflow
from flowscript.compiler.parser import parse_workflow_file
from flowscript.compiler.planner import build_plan
from flowscript.nodes.base import walk

HEADER = "---\nname: big\nversion: 1.0\n---\n\n# Big\n\n<workflow>\n"
FOOTER = "</workflow>\n"
MIXED_NODES = 10_000
CHAIN_SIZES = (1_000, 10_000, 20_000)
ROUNDS = 3  # each figure is the median of this many runs


def mixed_block(b: int) -> list[str]:
    """One block of 25 nodes (nested ones included); block b reads block b-1's fan-in node."""
    p = f"b{b}-"
    previous = f"b{b - 1}-join" if b else None
    upstream = f' Previous: {{{{{previous}.output}}}}.' if previous else ""
    return [
        f'  <source id="{p}src" type="file" path="./data/part-{b % 10}.json"/>',
        # a chain
        f'  <transform id="{p}big" type="filter" input="{p}src" condition="$item.total > {b % 50}"/>',
        f'  <transform id="{p}rows" type="map" input="{p}big" '
        f'expression="{{id: $item.id, total: $item.total * 2, rank: $index + 1}}"/>',
        f'  <transform id="{p}sum" type="template" input="{p}rows">'
        f'<template>{{{{length(input)}}}} rows, {{{{sum_by(input, \'total\')}}}} in all.{upstream}</template>'
        f'</transform>',
        # fan-out from rows, fan-in by name
        *(f'  <transform id="{p}fan{k}" type="template" input="{p}rows" '
          f'template="part {k}: {{{{at(input, {k}).id}}}}"/>' for k in range(4)),
        f'  <transform id="{p}join" type="template"><template>'
        + " ".join(f"{{{{{p}fan{k}.output}}}}" for k in range(4))
        + f' / {{{{{p}sum.output}}}}</template></transform>',
        # nested control nodes
        f'  <if id="{p}check" input="{p}rows" condition="length(input) > 3">',
        f'    <then><transform id="{p}many" type="template" template="many: {{{{{p}sum.output}}}}"/></then>',
        f'    <else><transform id="{p}few" type="map" expression="$item.id"/></else>',
        "  </if>",
        f'  <foreach id="{p}each" collection="{p}rows.output" item="row" concurrency="4">',
        f'    <transform id="{p}label" type="template" template="#{{{{index}}}} {{{{row.id}}}}"/>',
        f'    <transform id="{p}upper" type="map" expression="upper($item)"/>',
        "  </foreach>",
        f'  <parallel id="{p}par" input="{p}rows" merge="concat">',
        f'    <branch><transform id="{p}left" type="filter" condition="$index % 2 == 0"/></branch>',
        f'    <branch><transform id="{p}right" type="filter" condition="$index % 2 == 1"/>'
        f'<transform id="{p}right2" type="map" expression="$item.total"/></branch>',
        "  </parallel>",
        f'  <sink id="{p}save" type="file" input="{p}join" path="./out/{p}join.txt"/>',
        f'  <sink id="{p}save-each" type="file" input="{p}each" path="./out/{p}each.json"/>',
        f'  <sink id="{p}save-par" type="file" input="{p}par" path="./out/{p}par.json"/>',
        f'  <transform id="{p}note" type="template" input="{p}check" template="checked {{{{input}}}}"/>',
        f'  <sink id="{p}save-note" type="file" input="{p}note" path="./out/{p}note.txt"/>',
        f'  <transform id="{p}after" type="template" template="{{{{{p}save.output.bytes}}}} bytes"/>',
    ]


NODES_PER_BLOCK = 25


def mixed_workflow(nodes: int) -> str:
    lines: list[str] = []
    for b in range(nodes // NODES_PER_BLOCK):
        lines.extend(mixed_block(b))
    return HEADER + "\n".join(lines) + "\n" + FOOTER


def chain_workflow(nodes: int) -> str:
    lines = ['  <transform id="t0" type="template" template="start"/>']
    lines += [f'  <transform id="t{i}" type="template" input="t{i - 1}"><template>{{{{input}}}}x</template>'
              f'</transform>' for i in range(1, nodes)]
    return HEADER + "\n".join(lines) + "\n" + FOOTER


def timed(func: Callable[[], Any], rounds: int = ROUNDS) -> tuple[float, Any]:
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_mixed(folder: Path) -> None:
    path = folder / "big.flow.md"
    path.write_text(mixed_workflow(MIXED_NODES), encoding="utf-8")
    parse_s, workflow = timed(lambda: parse_workflow_file(path))
    plan_s, plan = timed(lambda: build_plan(workflow))
    load_s, loaded = timed(lambda: load_workflow(path))
    total = sum(1 for _ in walk(workflow.nodes))
    assert total == MIXED_NODES, total
    assert len(loaded.plan.waves) == len(plan.waves)
    print(f"mixed workflow: {total:,} nodes ({len(workflow.nodes):,} top-level, {len(plan.waves):,} waves), "
          f"{path.stat().st_size / 1e6:.1f} MB")
    for what, seconds in (("parse (parse_workflow_file)", parse_s), ("plan (build_plan)", plan_s),
                          ("load (parse + validate + plan)", load_s)):
        print(f"  {what:<31} {seconds:6.3f} s  {seconds / total * 1e6:6.1f} µs/node")


def bench_chains(folder: Path) -> None:
    print("chain of template transforms (one node per wave):")
    print(f"  {'nodes':>7}  {'parse':>16}  {'plan':>16}  {'load':>16}")
    for nodes in CHAIN_SIZES:
        path = folder / f"chain-{nodes}.flow.md"
        path.write_text(chain_workflow(nodes), encoding="utf-8")
        parse_s, workflow = timed(lambda path=path: parse_workflow_file(path))
        plan_s, plan = timed(lambda workflow=workflow: build_plan(workflow))
        load_s, _ = timed(lambda path=path: load_workflow(path))
        assert len(plan.waves) == nodes
        print(f"  {nodes:>7,}" + "".join(f"  {t:6.3f}s {t / nodes * 1e6:4.0f}µs/n" for t in (parse_s, plan_s, load_s)))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flowscript-bench-") as tmp:
        bench_mixed(Path(tmp))
        bench_chains(Path(tmp))


if __name__ == "__main__":
    main()

"""Benchmark of the engine's per-node overhead (a script, not a test): python bench/bench_engine.py

Runs two workflows in this process through the wave engine with the local backend, as
tests/engine/conftest.py does (load_workflow, Engine, RunOptions with state_dir and
workdir): a chain of template transforms, each reading the previous one (one node per
wave), and a wave of independent template transforms (all in wave 0). Each is run with
the state file and the markdown log (what `flowscript run --local` does), with the state
file only (`--no-log`), and with neither, so the cost of persistence shows. A chain of
1,000 checks that the cost per node does not grow with the run's length. Prints the
total and per-node time; each figure is the median of ROUNDS runs.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from local_run import timed_run

NODES = 200
LONG_CHAIN = 1_000
ROUNDS = 5
HEADER = "---\nname: {name}\nversion: 1.0\n---\n\n# {name}\n\n<workflow>\n"
MODES = {  # label -> (keep a state file, write the markdown log)
    "state file + log": (True, True),
    "state file, no log": (True, False),
    "no state, no log": (False, False),
}


def chain(nodes: int) -> str:
    lines = ['  <transform id="t0" type="template"><template>x</template></transform>']
    lines += [f'  <transform id="t{i}" type="template" input="t{i - 1}"><template>{{{{input}}}}x</template>'
              f'</transform>' for i in range(1, nodes)]
    return HEADER.format(name="chain") + "\n".join(lines) + "\n</workflow>\n"


def wave(nodes: int) -> str:
    lines = [f'  <transform id="t{i}" type="template"><template>node {i}: {{{{$config.word}}}}</template>'
             f'</transform>' for i in range(nodes)]
    config = "config:\n  word: {type: string, default: hello}\n"
    return HEADER.format(name="wave").replace("---\n\n", config + "---\n\n", 1) + "\n".join(lines) + "\n</workflow>\n"


def run_once(path: Path, state: bool, log: bool) -> float:
    return timed_run(path, state=state, log=log)[0]


def bench(label: str, path: Path, nodes: int, waves: int) -> None:
    print(f"{label}: {nodes} template nodes in {waves} wave(s)")
    for mode, (state, log) in MODES.items():
        seconds = statistics.median(run_once(path, state, log) for _ in range(ROUNDS))
        print(f"  {mode:<20} {seconds * 1000:8.1f} ms total  {seconds / nodes * 1000:6.3f} ms/node")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flowscript-bench-") as tmp:
        folder = Path(tmp)
        for name, text, nodes, waves in (("chain", chain(NODES), NODES, NODES),
                                         ("wave", wave(NODES), NODES, 1),
                                         ("long chain", chain(LONG_CHAIN), LONG_CHAIN, LONG_CHAIN)):
            path = folder / f"{name.replace(' ', '-')}.flow.md"
            path.write_text(text, encoding="utf-8")
            bench(name, path, nodes, waves)


if __name__ == "__main__":
    main()

"""Runs every benchmark (`make bench`): python bench/run_all.py [NAME ...]

Each bench/bench_*.py runs in turn as a subprocess of this interpreter, its output shown
as it comes, under a heading with the script's name and followed by its wall time. Names
(`planner`, `bench_engine`, `engine.py`...) run only those. A failing benchmark does not
stop the others; the exit code is 1 when any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def selected(names: list[str]) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not names:
        return scripts
    wanted = {name.removesuffix(".py").removeprefix("bench_") for name in names}
    unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
    if unknown:
        raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))}; "
                         f"there are: {', '.join(s.stem.removeprefix('bench_') for s in scripts)}")
    return [s for s in scripts if s.stem.removeprefix("bench_") in wanted]


def main() -> int:
    failed: list[str] = []
    for script in selected(sys.argv[1:]):
        print(f"=== {script.relative_to(HERE.parent)}", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode
        elapsed = time.perf_counter() - start
        status = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"--- {script.name}: {status} in {elapsed:.1f} s\n", flush=True)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the execution log artifact costs a chain run on Prefect (a script, not a test):

    .venv/bin/python bench/bench_artifact.py [--rounds 30] [--variants shipped,inflow,early,unkeyed,none]

bench_prefect.py's chain (50 template transforms in a row) on one temporary SQLite API, as
shipped and with the log artifact's request made another way, against the hand-written flow
with the same tags and persistence, in shuffled rounds (bench_prefect's `measure`):

  shipped  the artifact (key `flowscript-log-<workflow>`) sent while Prefect records the
           flow run's end, the caller waiting for both (what `flowscript run` does)
  inflow   the artifact sent before the flow function returns (what a deployed run does)
  early    the keyed artifact created as the run starts, its text replaced at the end
           (PATCH: no upsert of the key's collection at the end)
  unkeyed  the same artifact without a key (it is then missing from the UI's Artifacts page)
  none     no artifact

The variants replace `flow_builder._publish` (and, for `early`, hook `_retried_run`, which
every new run passes through before the engine starts): measuring, not product code.
Prints, per variant, the median wall time and its ratio to the hand-written flow in the same
round (median and quartiles), the medians of this process's and the server's CPU, and the
wall time before, in and after the flow's function (bench_prefect's --phases): the artifact's
request runs beside the flow run's end, so what it costs shows after the function.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_prefect as bench

VARIANTS = ("shipped", "inflow", "early", "unkeyed", "none")
MODE = ["shipped"]  # the variant the next flow run takes


def install_variants() -> None:
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactUpdate

    import flowscript.prefect_backend.flow_builder as builder
    from flowscript.prefect_backend.artifacts import artifact_key
    from flowscript.runtime.markdown_log import format_log

    shipped_publish, shipped_retried = builder._publish, builder._retried_run
    early: dict[str, asyncio.Future[Any]] = {}

    def retried(options: Any, workflow_id: str, run_id: str) -> Any:
        if MODE[0] == "early":
            early["created"] = asyncio.ensure_future(acreate_markdown_artifact(
                markdown="*running*", key=artifact_key(workflow_id), description=f"log of run {run_id}"))
        return shipped_retried(options, workflow_id, run_id)

    async def replace_text(state: Any, redactor: Any) -> None:
        artifact_id = await early.pop("created")
        async with get_client() as client:
            await client.update_artifact(artifact_id, ArtifactUpdate(data=format_log(state, redactor)))

    async def unkeyed(state: Any, redactor: Any) -> None:
        await acreate_markdown_artifact(markdown=format_log(state, redactor), description=f"log of run {state.run_id}")

    async def publish(launch: Any, state: Any, redactor: Any) -> None:
        mode = MODE[0]
        if mode == "none":
            return
        if mode == "inflow":
            await builder.publish_log(state, redactor)
        elif mode in ("early", "unkeyed"):
            launch.publishing = asyncio.ensure_future((replace_text if mode == "early" else unkeyed)(state, redactor))
        else:
            await shipped_publish(launch, state, redactor)

    builder._publish, builder._retried_run = publish, retried


def as_variant(mode: str, call: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    async def run() -> Any:
        MODE[0] = mode
        try:
            return await call()
        finally:
            MODE[0] = "shipped"
    return run


async def run_all(folder: Path, rounds: int, modes: list[str]) -> None:
    from flowscript.prefect_backend.launcher import quiet_console

    path = folder / "chain.flow.md"
    path.write_text(bench.chain_flow(), encoding="utf-8")
    bench.validate([path])
    quiet_console()
    install_variants()
    bench.time_flow_bodies()
    ours = bench.flowscript_run(path, bench.OURS[0])
    variants = {mode: as_variant(mode, ours) for mode in modes}
    variants["hand-written"] = bench.handwritten(bench.HAND_SETTINGS[-1])["chain"]["per node"]
    figures = await bench.measure(variants, rounds)
    print(f"chain, {rounds} rounds: median wall s, / hand-written [quartiles], CPU s this process / server, "
          "wall s before / in / after the flow's function")
    for label, figure in figures.items():
        ratio, low, high = bench.paired(figure, figures["hand-written"], "wall")
        print(f"{label:13s} {figure.median('wall'):.3f}  {ratio:.3f} [{low:.2f}-{high:.2f}]  "
              f"{figure.median('cpu'):.3f} / {figure.median('server_cpu'):.3f}  {figure.phases()}")
    await bench.settle()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    modes = [m for m in args.variants.split(",") if m]
    if unknown := set(modes) - set(VARIANTS):
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose from {', '.join(VARIANTS)}")

    with bench.prefect_api() as folder:
        asyncio.run(run_all(folder, args.rounds, modes))


if __name__ == "__main__":
    main()

"""Benchmark of the Prefect backend (a script, not a test): python bench/bench_prefect.py

    .venv/bin/python bench/bench_prefect.py [--rounds 7] [--profile] [--only chain,wave,foreach]
                                            [--database sqlite|postgres] [--no-per-item] [--pair] [--phases]

Starts one local Prefect API on 127.0.0.1 (bench/prefect_servers.py: Prefect's own test
harness with a temporary SQLite database, or `prefect server start` on a throwaway
PostgreSQL cluster; task results stored in a temporary folder; no internet, analytics off)
and measures, in this one process and one event loop, three workflow shapes:

  chain    50 template transforms, each reading the previous one (50 waves)
  wave     200 independent template transforms in one wave, --max-concurrency 10
  foreach  a foreach over range(1000) with concurrency 10, one template node in its body
           (the Prefect backend runs it as one task run for the foreach and 10 chunk task
           runs of 100 iterations, their node executions inline: 11 task runs)

each run three ways:

  1. FlowScript on Prefect: the .flow.md (checked with `flowscript validate`) through
     `run_through_prefect`, task results persisted (the default) and not, with the engine's
     state file and markdown log (what `flowscript run` does) and, once, without
     (RunOptions(state_dir=None, write_log=False));
  2. the same work as a hand-written async Prefect flow: the same number of task runs under
     the same concurrency limit (an asyncio.Semaphore over async tasks), with Prefect's
     defaults; with the tags our backend puts on every task run (node kind + "flowscript");
     with those tags and persist_result=True, as ours by default; and (per node and
     chunked) with those and a keyed markdown artifact of a line per task run published
     before the flow returns, as ours publishes its execution log. The tagged ones are
     spared Prefect's per-task-run ask for tag limits, as ours is (no_tag_limit_asks). For
     foreach: the natural one task run per item (semaphore; and, with the defaults,
     `task.map` on a ThreadPoolTaskRunner(max_workers=10), in a sync flow, since task.map
     from an async flow took ten times as long) and the chunked shape our backend uses (a
     task for the loop running 10 chunk tasks of 100 items one after the other);
  3. the local backend (Engine + LocalBackend in this process), state file and log on and off.

Before each run the script waits until the server has worked off the events of the run
before. One warm-up run of every variant, then --rounds rounds, each running every variant
once, in an order shuffled (seeded) each round. Prints per shape the medians of wall
seconds, ms per task run, CPU seconds of this process and of the API server (with its
database), and how many API requests were answered 503 (Prefect's client repeats them
after ~2 s); then markdown tables of ours / hand-written (the product target: within 10%)
as the median and quartiles of the ratios of runs in the same round, for wall and for CPU
time, and of Prefect against local.
--profile adds a cProfile breakdown, per task run and per flow run, for chain and wave.
--pair measures only the target's pair (ours as shipped, hand-written with tags and
persistence) and the like-for-like one (that flow publishing a keyed markdown artifact of its
task runs before it returns, as ours publishes its execution log): a run's medians move by
about 0.1, so the target wants many rounds.
--phases splits each run's wall time where Prefect calls the flow's function: before it (the
flow run's creation), the function (the task runs, and for ours the engine around them), and
after it (the flow run's end, for ours with the log artifact's request beside it).
"""


from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import io
import logging
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect_servers import Pids, cpu_s, postgres_server, sqlite_harness

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

CHAIN_NODES = 50
WAVE_NODES = 200
FOREACH_ITEMS = 1_000
CONCURRENCY = 10
CHUNK = 100  # the Prefect backend's chunk_threshold
ROUNDS = 7
ORDER_SEED = 20261128  # the variants' order in each round
HEADER = "---\nname: {name}\nversion: 1.0\n{extra}---\n\n# {name}\n\n<workflow>\n"


# ---------------------------------------------------------------- the workflows
def chain_flow() -> str:
    lines = ['  <transform id="t0" type="template"><template>x</template></transform>']
    lines += [f'  <transform id="t{i}" type="template" input="t{i - 1}"><template>{{{{input}}}}x</template>'
              f'</transform>' for i in range(1, CHAIN_NODES)]
    return HEADER.format(name="bench-chain", extra="") + "\n".join(lines) + "\n</workflow>\n"


def wave_flow() -> str:
    lines = [f'  <transform id="t{i}" type="template"><template>node {i}: {{{{$config.word}}}}</template>'
             f'</transform>' for i in range(WAVE_NODES)]
    extra = "config:\n  word: {type: string, default: hello}\n"
    return HEADER.format(name="bench-wave", extra=extra) + "\n".join(lines) + "\n</workflow>\n"


def foreach_flow() -> str:
    body = (f'  <foreach id="each" collection="range({FOREACH_ITEMS})" item="n" concurrency="{CONCURRENCY}">\n'
            '    <transform id="fmt" type="template"><template>item {{n}}</template></transform>\n'
            '  </foreach>')
    return HEADER.format(name="bench-foreach", extra="") + body + "\n</workflow>\n"


WORKFLOWS = {"chain": chain_flow, "wave": wave_flow, "foreach": foreach_flow}


# ---------------------------------------------------------------- hand-written Prefect
HAND_SETTINGS = ("defaults", "our tags", "tags + persist_result=True")
WITH_LOG = "tags + persist_result=True + log artifact"  # per-node flows only: the product's outputs, like for like
NODE_TAGS = {"transform:template", "flowscript"}
LOOP_TAGS = {"foreach", "flowscript"}


@contextmanager
def no_tag_limit_asks() -> Iterator[None]:
    """What our backend does for its own task runs (prefect_backend/tag_limits.py), done for
    a hand-written tagged flow: Prefect is told up front that its tags have no concurrency
    limit (none exists on this server), so its task runs do not stall ~2 s whenever Prefect's
    per-task-run ask meets a busy SQLite API (503). The comparison then shows our overhead,
    not that stall, which a hand-written tagged flow meets and ours does not."""
    import cachetools
    import prefect.concurrency.services as services

    primed = cachetools.TTLCache(maxsize=16, ttl=3600)
    for tags in (NODE_TAGS, LOOP_TAGS):
        primed[frozenset(f"tag:{tag}" for tag in tags)] = True
    kept, services._no_limits_cache = services._no_limits_cache, primed
    try:
        yield
    finally:
        services._no_limits_cache = kept


def handwritten(setting: str) -> dict[str, dict[str, Callable[[], Awaitable[Any]]]]:
    """The same work as plain Prefect: shape -> variant -> an async callable running one flow
    run. setting: Prefect's defaults; the tags our backend puts on its task runs (node kind +
    "flowscript"); those tags and persist_result=True on every task (what ours does by
    default); or (WITH_LOG) those and, before the flow returns, a keyed markdown artifact
    with a line per task run, as ours publishes its execution log."""
    from prefect import flow, task
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.task_runners import ThreadPoolTaskRunner

    tagged = setting != "defaults"
    opts: dict[str, Any] = {"persist_result": True} if "persist_result" in setting else {}
    node_tags = {"tags": NODE_TAGS} if tagged else {}
    loop_tags = {"tags": LOOP_TAGS} if tagged else {}

    async def publish(shape: str, results: list[str]) -> None:
        if setting == WITH_LOG:
            rows = [f'| {i} | success | 0.00s | "{result[:40]}" |' for i, result in enumerate(results)]
            table = "\n".join(["| task run | status | duration | output |", "|---|---|---|---|", *rows])
            await acreate_markdown_artifact(markdown=table, key=f"hand-log-{shape}", description="log of the run")

    @task(**opts, **node_tags)
    async def step(previous: str) -> str:
        return f"{previous}x"

    @task(**opts, **node_tags)
    async def node(i: int, word: str) -> str:
        return f"node {i}: {word}"

    @task(**opts, **node_tags)
    async def render(n: int) -> str:
        return f"item {n}"

    @task(**opts, **node_tags)
    def render_sync(n: int) -> str:  # task.map runs each call in a worker thread: a plain function
        return f"item {n}"

    @task(**opts, **loop_tags)
    async def chunk(items: list[int]) -> list[str]:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> str:
            async with limit:
                return f"item {n}"

        return list(await asyncio.gather(*(one(n) for n in items)))

    @task(**opts, **loop_tags)
    async def loop(items: list[int]) -> list[str]:
        out: list[str] = []
        for start in range(0, len(items), CHUNK):
            out += await chunk(items[start:start + CHUNK])
        return out

    async def capped(calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(call: Callable[[], Awaitable[Any]]) -> Any:
            async with limit:
                return await call()

        return list(await asyncio.gather(*(one(c) for c in calls)))

    @flow(name="hand-chain")
    async def hand_chain() -> str:
        values = [await step("")]
        for _ in range(1, CHAIN_NODES):
            values.append(await step(values[-1]))
        await publish("chain", values)
        return values[-1]

    @flow(name="hand-wave")
    async def hand_wave(word: str = "hello") -> list[str]:
        values = await capped([lambda i=i: node(i, word) for i in range(WAVE_NODES)])
        await publish("wave", values)
        return values

    @flow(name="hand-foreach-per-item")
    async def hand_per_item() -> list[str]:
        return await capped([lambda n=n: render(n) for n in range(FOREACH_ITEMS)])

    @flow(name="hand-foreach-map", task_runner=ThreadPoolTaskRunner(max_workers=CONCURRENCY))
    def hand_map() -> list[str]:  # a sync flow: task.map from an async flow took 10x as long
        return render_sync.map(list(range(FOREACH_ITEMS))).result()

    @flow(name="hand-foreach-chunked")
    async def hand_chunked() -> list[str]:
        values = await loop(list(range(FOREACH_ITEMS)))
        await publish("foreach", values)
        return values

    def run(fl: Any) -> Callable[[], Awaitable[Any]]:
        async def go() -> Any:
            with no_tag_limit_asks() if tagged else nullcontext():
                if fl.isasync:
                    state = await fl(return_state=True)
                else:
                    state = await asyncio.to_thread(fl, return_state=True)
            assert state.is_completed(), state
            return state
        return go

    foreach = {"chunked": run(hand_chunked), "per item": run(hand_per_item)}
    if setting == "defaults":
        foreach["per item, task.map"] = run(hand_map)
    return {"chain": {"per node": run(hand_chain)}, "wave": {"per node": run(hand_wave)}, "foreach": foreach}


# ---------------------------------------------------------------- FlowScript runs
@dataclass(frozen=True)
class Ours:
    backend: str  # "prefect" or "local"
    persist: bool = True  # Prefect task results
    state: bool = True  # the engine's state file and markdown log

    @property
    def label(self) -> str:
        files = "state+log" if self.state else "no state/log"
        if self.backend == "local":
            return f"local backend, {files}"
        return f"FlowScript on Prefect, persist {'on' if self.persist else 'off'}, {files}"


def flowscript_run(path: Path, ours: Ours) -> Callable[[], Awaitable[Any]]:
    from flowscript.compiler.loader import load_workflow
    from flowscript.compiler.run_config import resolve_config
    from flowscript.prefect_backend.launcher import run_through_prefect
    from flowscript.runtime.engine import Engine, RunOptions
    from flowscript.runtime.local_backend import LocalBackend

    loaded = load_workflow(path)
    config = resolve_config(loaded.workflow.meta, {})

    def options() -> RunOptions:
        return RunOptions(max_concurrency=CONCURRENCY, workdir=path.parent, env={},
                          state_dir=path.parent / ".state" if ours.state else None, write_log=ours.state)

    async def prefect() -> Any:
        launch = await run_through_prefect(loaded.plan, config, None, options(), interactive=False,
                                           persist_results=ours.persist)
        assert launch.failure is None and launch.state.status == "completed", launch.failure
        return launch.state

    async def local() -> Any:
        engine = Engine(loaded.plan, LocalBackend(interactive=False), options())
        state = engine.new_state(config)
        await engine.run(state, {})
        assert state.status == "completed", state.status
        return state

    return prefect if ours.backend == "prefect" else local


# ---------------------------------------------------------------- measuring
SERVER: list[Pids] = []  # main() puts here what lists the API server's processes


def server_cpu_s() -> float:
    """CPU seconds the Prefect API server (and its database server) have used so far."""
    return cpu_s(SERVER[0]()) if SERVER else 0.0


async def settle(limit_s: float = 60.0) -> None:
    """Waits until the server has processed the events of the previous flow run (its CPU use
    falls below 5% over 0.3 s), so one measurement does not pay for the one before."""
    deadline = time.monotonic() + limit_s
    before = server_cpu_s()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        now = server_cpu_s()
        if now - before < 0.015:
            return
        before = now


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds of the flow run, as the caller waits for it
    cpu: float  # CPU seconds of this process (every thread: the engine, Prefect's client and its services)
    server_cpu: float  # CPU seconds of the Prefect API server (and of PostgreSQL, with --database postgres)
    retries: int  # API requests the server answered 503 and Prefect's client repeated ~2 s later
    before_body: float = 0.0  # seconds until Prefect called the flow's function (with --phases)
    body: float = 0.0  # seconds in the flow's function (with --phases)

    @property
    def after_body(self) -> float:
        return self.wall - self.before_body - self.body if self.body else 0.0


@dataclass(frozen=True)
class Figures:
    """One variant's samples, a sample per round."""

    samples: list[Sample]

    def median(self, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples)

    @property
    def best(self) -> float:
        return min(s.wall for s in self.samples)

    @property
    def retries(self) -> int:
        return sum(s.retries for s in self.samples)

    def phases(self) -> str:
        """Median wall seconds before / in / after the flow's function (--phases)."""
        return " / ".join(f"{self.median(part):.3f}" for part in ("before_body", "body", "after_body"))


def paired(ours: Figures, hand: Figures, what: str) -> tuple[float, float, float]:
    """Ratios of ours to hand-written run in the same round (one after the other): their median
    and quartiles. Pairing cancels most of what the machine's load does to both."""
    ratios = sorted(getattr(o, what) / getattr(h, what) for o, h in zip(ours.samples, hand.samples, strict=True))
    if len(ratios) < 4:
        return statistics.median(ratios), ratios[0], ratios[-1]
    low, _, high = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), low, high


class RetryCounter(logging.Handler):
    """Counts Prefect client requests answered with a retryable 503 (logged at debug level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retryable status code 503" in record.getMessage():
            self.count += 1


RETRIES = RetryCounter()


BODY: dict[str, float] = {}  # when the flow's function started and ended, in the run being sampled


def time_flow_bodies() -> None:
    """--phases: Prefect's async flow engine calls the flow's function through
    `call_with_parameters`; timed there, ours and the hand-written flows are split alike."""
    import prefect.flow_engine as engine

    call = engine.call_with_parameters

    def timed(fn: Callable[..., Any], parameters: dict[str, Any]) -> Any:
        if not inspect.iscoroutinefunction(fn):
            return call(fn, parameters)

        async def body() -> Any:
            BODY["start"] = time.perf_counter()
            try:
                return await call(fn, parameters)
            finally:
                BODY["end"] = time.perf_counter()

        return body()

    engine.call_with_parameters = timed  # type: ignore[assignment]


async def sample(call: Callable[[], Awaitable[Any]]) -> Sample:
    await settle()
    BODY.clear()
    retries, server, cpu, wall = RETRIES.count, server_cpu_s(), time.process_time(), time.perf_counter()
    await call()
    done = time.perf_counter()
    before, body = (BODY["start"] - wall, BODY["end"] - BODY["start"]) if "end" in BODY else (0.0, 0.0)
    return Sample(done - wall, time.process_time() - cpu, server_cpu_s() - server, RETRIES.count - retries,
                  before, body)


async def measure(variants: dict[str, Callable[[], Awaitable[Any]]], rounds: int) -> dict[str, Figures]:
    """One warm-up run of each variant, then the rounds, every variant once per round, so a
    change in the machine's load touches every variant alike; in a new order each round
    (seeded), so no variant always follows the same one (the server's database may still be
    busy with what the one before left it)."""
    samples: dict[str, list[Sample]] = {label: [] for label in variants}
    for call in variants.values():
        await sample(call)
    order = random.Random(ORDER_SEED)
    for _ in range(rounds):
        for label in order.sample(list(variants), len(variants)):
            samples[label].append(await sample(variants[label]))
    return {label: Figures(values) for label, values in samples.items()}


OURS = (Ours("prefect", persist=True), Ours("prefect", persist=False), Ours("prefect", persist=False, state=False),
        Ours("local"), Ours("local", state=False))  # summary() relies on this order


def hand_label(variant: str, setting: str) -> str:
    return f"hand-written Prefect, {variant}, {setting}"


def variants(shape: str, path: Path, per_item: bool = True, pair: bool = False
             ) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every variant; with `pair` only the product target's (ours as shipped, the hand-written
    flow with the same tags and persistence, and that flow publishing a log artifact as ours
    does), so more rounds fit in the time."""
    calls = {ours.label: flowscript_run(path, ours) for ours in (OURS[:1] if pair else OURS)}
    for setting in (*(HAND_SETTINGS[-1:] if pair else HAND_SETTINGS), WITH_LOG):
        for variant, call in handwritten(setting)[shape].items():
            like_ours = variant in ("per node", "chunked")
            if (per_item or not variant.startswith("per item")) and (like_ours or setting != WITH_LOG):
                calls[hand_label(variant, setting)] = call
    return calls


def task_runs(shape: str, variant: str | None = None) -> int:
    """Prefect task runs of one flow run: ours (variant None) or a hand-written variant."""
    if shape == "chain":
        return CHAIN_NODES
    if shape == "wave":
        return WAVE_NODES
    return FOREACH_ITEMS if variant and variant.startswith("per item") else 1 + FOREACH_ITEMS // CHUNK


def report(shape: str, figures: dict[str, Figures]) -> None:
    print(f"\n{shape}: medians of the rounds per flow run (CPU: this process / the API server; 503s: in all rounds)")
    for label, f in figures.items():
        runs = task_runs(shape, label.split(", ")[1] if label.startswith("hand") else None)
        per_run = "" if label.startswith("local") else f" {f.median('wall') / runs * 1000:6.2f} ms/task run"
        print(f"  {label:<58} {f.median('wall'):7.3f} s{per_run:<22} best {f.best:7.3f} s"
              f"  CPU {f.median('cpu'):6.3f} / {f.median('server_cpu'):6.3f} s  503s: {f.retries}")
        if f.median("body"):
            print(f"  {'':<58} s before / in / after the flow's function: {f.phases()}")


COMPARED = (  # ours (an OURS index) against a hand-written setting
    (0, "tags + persist_result=True", "ours (defaults: persist on) / hand, tags + persist_result=True"),
    (0, WITH_LOG, "ours (defaults) / hand, tags + persist_result=True + log artifact"),
    (1, "our tags", "ours, persist off / hand, our tags"),
    (1, "defaults", "ours, persist off / hand, defaults (no tags)"),
)


def ratio_table(results: dict[str, dict[str, Figures]], what: str) -> None:
    """Ours against every hand-written variant: the median of the paired per-round ratios of
    `wall` seconds or `cpu` seconds of this process, with their quartiles."""
    name = {"wall": "wall seconds", "cpu": "CPU seconds of this process"}[what]
    print(f"\n{name}: ours / hand-written Prefect, median of the rounds' paired ratios [quartiles]\n")
    print("| shape | hand-written variant | task runs ours / hand | " + " | ".join(c[2] for c in COMPARED) + " |")
    print("|---|---|---|" + "---|" * len(COMPARED))
    for shape, figures in results.items():
        hand_variants = dict.fromkeys(label.split(", ")[1] for label in figures if label.startswith("hand"))
        for variant in hand_variants:
            cells = []
            for ours_index, setting, _ in COMPARED:
                hand, ours = figures.get(hand_label(variant, setting)), figures.get(OURS[ours_index].label)
                if hand is None or ours is None:
                    cells.append("–")
                    continue
                mid, low, high = paired(ours, hand, what)
                cells.append(f"{mid:.2f} [{low:.2f}–{high:.2f}]")
            print(f"| {shape} | {variant} | {task_runs(shape)} / {task_runs(shape, variant)} | "
                  + " | ".join(cells) + " |")


def summary(results: dict[str, dict[str, Figures]]) -> None:
    """Markdown tables of every shape: ours against hand-written Prefect, and against local."""
    for what in ("wall", "cpu"):
        ratio_table(results, what)
    print("\nwall seconds (median): the Prefect backend against the local backend\n")
    print("| shape | local, state+log | local, no state/log | Prefect, persist on | Prefect, persist off "
          "| Prefect, persist off, no state/log | Prefect / local (defaults) |")
    print("|---|---|---|---|---|---|---|")
    for shape, figures in results.items():
        if OURS[3].label not in figures:  # --pair
            continue
        cells = [figures[ours.label].median("wall") for ours in (OURS[3], OURS[4], OURS[0], OURS[1], OURS[2])]
        print(f"| {shape} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {cells[2] / cells[0]:.0f}x |")


# ---------------------------------------------------------------- where the time goes
PER_TASK_RUN = (  # label, (file suffix, function), minus (file suffix, function) or None
    ("Prefect's task engine, all of it", ("prefect/task_engine.py", "run_task_async"), None),
    ("  tag concurrency check (tagged task runs)",
     ("prefect/concurrency/_asyncio.py", "aacquire_concurrency_slots_with_lease"), None),
    ("  result persistence (writing the result file)", ("prefect/results.py", "apersist_result_record"), None),
    ("building a Task (Task.with_options)", ("prefect/tasks.py", "with_options"), None),
    ("engine around the backend (run_node - run_task)", ("runtime/executor.py", "run_node"),
     ("prefect_backend/backend.py", "run_task")),
    ("state file journal (StateStore.record)", ("runtime/persistence.py", "record"), None),
)
PER_FLOW_RUN = (
    ("flow run start and end (run_flow_async - the flow function)", ("prefect/flow_engine.py", "run_flow_async"),
     ("prefect/flow_engine.py", "call_flow_fn")),
    ("building the Prefect flow (build_flow)", ("prefect_backend/flow_builder.py", "build_flow"), None),
    ("the execution log artifact (publish_log)", ("prefect_backend/artifacts.py", "publish_log"), None),
    ("state file snapshots and markdown log (Engine._finish)", ("runtime/engine.py", "_finish"), None),
)


def cumulative(stats: pstats.Stats, where: tuple[str, str]) -> float:
    suffix, name = where
    return sum(entry[3] for (path, _, function), entry in stats.stats.items()  # type: ignore[attr-defined]
               if function == name and path.endswith(suffix))


async def profile(label: str, call: Callable[[], Awaitable[Any]], runs: int, rounds: int) -> None:
    """cProfile of `rounds` flow runs: cumulative milliseconds (of this thread, the event loop's)
    per task run and per flow run. cProfile slows everything; compare the parts, not the sums."""
    await sample(call)
    profiler = cProfile.Profile()
    for _ in range(rounds):
        await settle()
        profiler.enable()
        await call()
        profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    print(f"\n  {label}")
    for rows, per in ((PER_TASK_RUN, runs * rounds), (PER_FLOW_RUN, rounds)):
        for name, where, minus in rows:
            value = cumulative(stats, where) - (cumulative(stats, minus) if minus else 0.0)
            unit = "task run" if rows is PER_TASK_RUN else "flow run"
            print(f"    {name:<62} {value / per * 1000:8.2f} ms per {unit}")


def validate(paths: list[Path]) -> None:
    cli = Path(sys.executable).with_name("flowscript")
    done = subprocess.run([str(cli), "validate", *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flowscript validate failed:\n{done.stdout}{done.stderr}")


async def run_all(folder: Path, shapes: list[str], rounds: int, with_profile: bool, per_item: bool,
                  pair: bool = False, phases: bool = False) -> None:
    from flowscript.prefect_backend.launcher import quiet_console

    if phases:
        time_flow_bodies()

    paths = {}
    for shape in shapes:
        paths[shape] = folder / f"{shape}.flow.md"
        paths[shape].write_text(WORKFLOWS[shape](), encoding="utf-8")
    validate(list(paths.values()))
    quiet_console()  # then Prefect's client debug records reach only RETRIES
    client_log = logging.getLogger("prefect.client")
    client_log.setLevel(logging.DEBUG)
    client_log.addHandler(RETRIES)
    results = {}
    for shape in shapes:
        results[shape] = await measure(variants(shape, paths[shape], per_item, pair), rounds)
        report(shape, results[shape])
    summary(results)
    if with_profile:
        for shape in shapes:
            if shape == "foreach":
                continue
            print(f"\ncProfile, {shape}: where the time goes")
            await profile(OURS[0].label, flowscript_run(paths[shape], OURS[0]), task_runs(shape), rounds)
            for setting in HAND_SETTINGS[1:]:
                await profile(hand_label("per node", setting), handwritten(setting)[shape]["per node"],
                              task_runs(shape), rounds)
    await settle()  # the server's event backlog, before the harness stops it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", default="chain,wave,foreach")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--no-per-item", dest="per_item", action="store_false",
                        help="leave out the per-item foreach flows (1,000 task runs each: most of the time)")
    parser.add_argument("--pair", action="store_true",
                        help="only ours as shipped and the hand-written flow with the same tags and persistence")
    parser.add_argument("--phases", action="store_true",
                        help="split each run's wall time at the flow's function: before, in, after it")
    args = parser.parse_args()
    shapes = [s for s in args.only.split(",") if s]
    with prefect_api(args.database) as folder:
        print(f"Prefect API: {args.database}, {args.rounds} rounds")
        asyncio.run(run_all(folder, shapes, args.rounds, args.profile, args.per_item, args.pair, args.phases))


@contextmanager
def prefect_api(database: str = "sqlite") -> Iterator[Path]:
    """A temporary folder, and a local Prefect API that stores task results in it (its
    processes in SERVER, for the CPU figures)."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    import flowscript.prefect_backend  # noqa: F401  (its environment defaults, before Prefect starts)

    with tempfile.TemporaryDirectory(prefix="flowscript-bench-prefect-") as tmp:
        folder = Path(tmp)
        (folder / "results").mkdir()
        server = sqlite_harness() if database == "sqlite" else postgres_server(folder)
        with server as pids, temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: str(folder / "results")}):
            SERVER.append(pids)
            try:
                yield folder
            finally:
                SERVER.remove(pids)


if __name__ == "__main__":
    main()

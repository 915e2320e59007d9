"""Benchmark of the expression engine (a script, not a test): python bench/bench_expressions.py

Compiles a typical map expression once and evaluates it 100,000 times with a changing
$item, as a map transform over 100,000 items does; then times compile_expression on a
cold cache (parse + compile) against a cached call. Prints the figures.
"""

from __future__ import annotations

import time

from flowscript.expressions import clear_cache, compile_expression, compile_template

EXPRESSION = "{name: upper($item.name), total: $item.price * $item.qty, ok: $item.qty > 2 && !$item.void}"
TEMPLATE = "Order {{ $item.name }}: {{ $item.qty }} x {{ $item.price }} = {{ $item.price * $item.qty }}"
ITEMS = 100_000


def items() -> list[dict[str, object]]:
    return [{"name": f"item-{i}", "price": 1.5 + i % 7, "qty": i % 5, "void": i % 11 == 0}
            for i in range(ITEMS)]


def bench_evaluate(data: list[dict[str, object]]) -> None:
    expression = compile_expression(EXPRESSION)
    scope: dict[str, object] = {"$index": 0}
    start = time.perf_counter()
    for i, item in enumerate(data):
        scope["$item"] = item
        scope["$index"] = i
        expression.evaluate(scope)
    elapsed = time.perf_counter() - start
    print(f"evaluate  {ITEMS:,} items: {elapsed:.3f} s total, {ITEMS / elapsed:,.0f} items/s, "
          f"{elapsed / ITEMS * 1e6:.2f} µs/item")


def bench_template(data: list[dict[str, object]]) -> None:
    template = compile_template(TEMPLATE)
    start = time.perf_counter()
    for item in data:
        template.render({"$item": item})
    elapsed = time.perf_counter() - start
    print(f"render    {ITEMS:,} templates: {elapsed:.3f} s total, {ITEMS / elapsed:,.0f} renders/s")


def bench_compile(rounds: int = 200) -> None:
    start = time.perf_counter()
    for _ in range(rounds):
        clear_cache()
        compile_expression(EXPRESSION)
    cold = (time.perf_counter() - start) / rounds
    compile_expression(EXPRESSION)
    start = time.perf_counter()
    for _ in range(100_000):
        compile_expression(EXPRESSION)
    cached = (time.perf_counter() - start) / 100_000
    print(f"compile   cold: {cold * 1e6:,.1f} µs, cached: {cached * 1e6:.3f} µs "
          f"({cold / cached:,.0f}x faster)")


def main() -> None:
    data = items()
    bench_evaluate(data)
    bench_template(data)
    bench_compile()


if __name__ == "__main__":
    main()

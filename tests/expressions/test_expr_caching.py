"""Compilation is cached: a map over 100,000 items parses its expression once."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.expressions import compile_expression, compile_template, parser


@pytest.fixture
def parse_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = parser.parse

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(parser, "parse", counting)
    return calls


def test_same_source_gives_the_same_compiled_object() -> None:
    a = compile_expression("cache_test_a + 1")
    assert compile_expression("cache_test_a + 1") is a
    assert compile_expression("cache_test_a + 1", node_ids=frozenset({"x", "y"})) is a  # ids without '-'
    # a hyphenated id that does not occur in the source changes nothing
    assert compile_expression("cache_test_a + 1", node_ids=["other-id"]) is a


def test_hyphenated_ids_in_the_source_make_a_different_compilation() -> None:
    plain = compile_expression("cache-test + 1")
    with_id = compile_expression("cache-test + 1", node_ids={"cache-test"})
    assert plain is not with_id
    assert plain.names == frozenset({"cache", "test"})
    assert with_id.names == frozenset({"cache-test"})
    assert compile_expression("cache-test + 1", node_ids=("cache-test", "z")) is with_id


def test_a_map_over_100000_items_parses_once(parse_count: list[int]) -> None:
    source = "{name: upper($item.name), n: $index * 2, tag: 'only in this test'}"
    ids = frozenset({"fetch", "url-list"})
    results = []
    for i in range(100_000):
        compiled = compile_expression(source, node_ids=ids)
        results.append(compiled.evaluate({"$item": {"name": "a"}, "$index": i}))
    assert parse_count[0] == 1
    assert results[-1] == {"name": "A", "n": 199_998, "tag": "only in this test"}


def test_templates_are_cached_and_parse_each_segment_once(parse_count: list[int]) -> None:
    source = "cache {{ a }} and {{ b }} !"
    for i in range(1000):
        assert compile_template(source).render({"a": i, "b": "x"}) == f"cache {i} and x !"
    assert parse_count[0] == 2


def test_failed_compilations_keep_failing() -> None:
    from flowscript.errors import ExpressionError

    for _ in range(3):
        with pytest.raises(ExpressionError):
            compile_expression("cache_test_bad +")

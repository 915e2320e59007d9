"""Names, member access (always null-safe), literals, arrow functions, free names."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression

SCOPE: dict[str, Any] = {
    "$item": {"name": "Ada", "tags": ["x", "y"], "meta": {"a": {"b": 2}}, "length": 7},
    "s": "héllo😀",
    "xs": [10, 20, 30],
    "n": None,
    "url-list": {"output": ["u0", "u1"]},
    "url": 100,
    "list": 1,
    "fetch": {"output": {"data": [1, 2, 3]}},
    "t": (1, 2),
}


def ev(source: str, scope: dict[str, Any] | None = None, ids: tuple[str, ...] = ()) -> Any:
    return compile_expression(source, node_ids=ids).evaluate(SCOPE if scope is None else scope)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$item.name", "Ada"),
        ("$item['name']", "Ada"),
        ("$item.meta.a.b", 2),
        ("$item.meta['a']['b']", 2),
        ("$item.missing", None),
        ("$item.missing.deeper.still", None),
        ("n.x", None),
        ("n[0]", None),
        ("n?.x", None),
        ("n?.[0]", None),
        ("$item?.meta?.a?.b", 2),
        ("unknown_name", None),
        ("unknown_name.x.y", None),
        ("xs[0]", 10),
        ("xs[2]", 30),
        ("xs[3]", None),
        ("xs[-1]", None),  # as in JavaScript; use at(xs, -1)
        ("xs[1.0]", 20),
        ("xs[1.5]", None),
        ("xs['1']", 20),
        ("xs.length", 3),
        ("xs['length']", 3),
        ("s.length", 6),  # code points: the emoji counts once
        ("s[1]", "é"),
        ("s[5]", "😀"),
        ("s[6]", None),
        ("$item.length", 7),  # an object's "length" is just a key
        ("$item.tags.length", 2),
        ("(5).x", None),
        ("true.x", None),
        ("'abc'.length", 3),
        ("{a: 1}.a", 1),
        ("[1, 2][1]", 2),
        ("{'1': 'one'}[1]", "one"),  # property keys go through ToString
        ("t.length", 2),
        ("t[1]", 2),
        ("fetch.output.data[2]", 3),
    ],
)
def test_member_access_is_null_safe(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_hyphenated_node_id_is_one_name_only_when_it_exists() -> None:
    assert ev("url-list.output[1]", ids=("url-list",)) == "u1"
    assert ev("url-list", ids=("url-list", "other")) == {"output": ["u0", "u1"]}
    # unknown: subtraction of the names url and list
    assert ev("url-list", ids=()) == 99
    # spaces always mean subtraction
    assert ev("url - list", ids=("url-list",)) == 99
    # the longest known id wins, the rest is subtraction
    assert ev("url-list-1", {"url-list": 5}, ids=("url-list",)) == 4
    # after a dot it is a property name followed by subtraction
    assert ev("o.url-list", {"o": {"url": 3}, "list": 1}, ids=("url-list",)) == 2


def test_names_and_positions() -> None:
    source = "fetch.output + url-list.x + map($items, (x, i) => x + i + $index) + input"
    compiled = compile_expression(source, node_ids={"url-list"})
    assert compiled.names == frozenset({"fetch", "url-list", "$items", "$index", "input"})
    assert compiled.name_positions == (
        ("fetch", 0), ("url-list", 15), ("$items", 32), ("$index", source.index("$index")),
        ("input", source.index("input")),
    )
    # arrow parameters and function names are not free names
    assert "x" not in compiled.names and "i" not in compiled.names and "map" not in compiled.names


def test_each_use_of_a_name_is_listed() -> None:
    compiled = compile_expression("a + a.b + {a}")
    assert compiled.name_positions == (("a", 0), ("a", 4), ("a", 11))


def test_object_literals() -> None:
    scope = {"d": 4, "k": "key", "url-list": 9}
    assert ev("{a: 1, 'b c': 2, d}", scope) == {"a": 1, "b c": 2, "d": 4}
    assert ev("{[k]: 1, [k + '2']: 2}", scope) == {"key": 1, "key2": 2}
    assert ev("{url-list}", scope, ids=("url-list",)) == {"url-list": 9}
    assert ev("{a: 1, a: 2}", scope) == {"a": 2}
    assert ev("{}", scope) == {}
    assert ev("{nested: {deep: [1, {x: d}]}}", scope) == {"nested": {"deep": [1, {"x": 4}]}}


def test_literals_are_fresh_values_each_evaluation() -> None:
    compiled = compile_expression("{a: [1]}")
    first = compiled.evaluate({})
    first["a"].append(2)
    assert compiled.evaluate({}) == {"a": [1]}


def test_arrow_functions_with_index_and_shadowing() -> None:
    scope = {"x": "outer", "items": [5, 6, 7]}
    assert ev("map(items, x => x * 2)", scope) == [10, 12, 14]
    assert ev("map(items, (x, i) => x * i)", scope) == [0, 6, 14]
    assert ev("map(items, (x, i, all) => length(all))", scope) == [3, 3, 3]
    assert ev("map(items, () => x)", scope) == ["outer"] * 3
    assert ev("map(items, (v) => x)", scope) == ["outer"] * 3
    # nested arrows see the outer parameter
    assert ev("map([1, 2], a => map([10, 20], b => a + b))", scope) == [[11, 21], [12, 22]]
    # a parameter shadows a scope name of the same name, only inside the arrow
    assert ev("[map(items, x => x), x]", scope) == [[5, 6, 7], "outer"]
    assert ev("reduce(items, (acc, x) => acc + x, 0)", scope) == 18


def test_scope_can_be_any_mapping() -> None:
    from types import MappingProxyType

    assert compile_expression("a + 1").evaluate(MappingProxyType({"a": 1})) == 2


def test_member_access_never_reads_python_attributes() -> None:
    class Host:
        secret = "s3cr3t"

        def __getitem__(self, key: str) -> str:
            return "item"

    scope = {"h": Host(), "d": {"a": 1}, "s": "abc", "f": 1.5}
    assert ev("h.secret", scope) is None
    assert ev("h['secret']", scope) is None
    assert ev("d.items", scope) is None
    assert ev("d.keys", scope) is None
    assert ev("s.upper", scope) is None
    assert ev("f.real", scope) is None
    for source in ("d.__class__", "d['__class__']", "d.__dict__", "s.__len__", "__builtins__", "__import__"):
        with pytest.raises(ExpressionError) as e:
            ev(source, scope)
        assert e.value.code == "EXPR_BLOCKED_ACCESS"

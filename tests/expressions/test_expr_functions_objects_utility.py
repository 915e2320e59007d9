"""Object and utility built-ins."""

from __future__ import annotations

import copy
import hashlib
import re
import time
from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import Limits, compile_expression

DOC: dict[str, Any] = {
    "meta": {"a": 1, "b": {"c": 2}},
    "items": [{"name": "first", "tags": ["t"]}, {"name": "second"}],
    "raw": '{"a":[1]}',
    "odd": {"constructor": "Ferrari", "a.b": "dotted"},
}


def ev(source: str, scope: dict[str, Any] | None = None, limits: Limits | None = None) -> Any:
    return compile_expression(source).evaluate(DOC if scope is None else scope, limits)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("keys(meta)", ["a", "b"]),
        ("keys(null)", []),
        ("keys([1])", []),
        ("values({a: 1, b: 2})", [1, 2]),
        ("entries({a: 1, b: 2})", [["a", 1], ["b", 2]]),
        ("from_entries(entries({a: 1, b: 2}))", {"a": 1, "b": 2}),
        ("from_entries([['a', 1], {key: 'b', value: 2}, [3, 'three']])", {"a": 1, "b": 2, "3": "three"}),
        ("from_entries(null)", {}),
        ("get(meta, 'b.c')", 2),
        ("get(meta, 'x.y', 'none')", "none"),
        ("get(items, '[0].name')", "first"),
        ("get(items, '1.name')", "second"),
        ("get($d, 'items[0].tags[0]')", "t"),
        ("get($d, ['meta', 'b', 'c'])", 2),
        ("get(odd, 'constructor')", "Ferrari"),  # data keys of any name can be read with get
        ("get(odd, 'a.b')", "dotted"),  # an exact key wins over a path
        ("get(null, 'a', 'd')", "d"),
        ("get(meta, '')", None),
        ("has(meta, 'a')", True),
        ("has(meta, 'b.c')", True),
        ("has(meta, 'b.x')", False),
        ("has({a: null}, 'a')", True),
        ("has(items, 1)", True),
        ("has(items, 2)", False),
        ("has(null, 'a')", False),
        ("merge({a: 1, b: 1}, {b: 2})", {"a": 1, "b": 2}),
        ("merge({a: 1}, null, 5, {c: 3})", {"a": 1, "c": 3}),
        ("pick({a: 1, b: 2, c: 3}, ['a', 'c', 'z'])", {"a": 1, "c": 3}),
        ("pick({a: 1, b: 2}, 'b')", {"b": 2}),
        ("omit({a: 1, b: 2, c: 3}, ['a', 'c'])", {"b": 2}),
        ("omit(null, ['a'])", {}),
        ("size(meta)", 2),
        ("size([1, 2, 3])", 3),
        ("size('abc')", 3),
        ("size(null)", 0),
        ("set({}, 'p.q', 1)", {"p": {"q": 1}}),
        ("set({p: {r: 2}}, 'p.q', 1)", {"p": {"r": 2, "q": 1}}),
        ("set({a: [1, 2]}, 'a[1]', 9)", {"a": [1, 9]}),
        ("set({a: [1]}, 'a.2', 3)", {"a": [1, None, 3]}),
        ("set(null, 'a', 1)", {"a": 1}),
        ("set({a: 1}, '', 2)", {"a": 1}),
        ("delete({a: 1, b: 2}, 'a')", {"b": 2}),
        ("delete({a: {b: 1, c: 2}}, 'a.b')", {"a": {"c": 2}}),
        ("delete({a: 1}, 'zz')", {"a": 1}),
        ("delete([1, 2, 3], 1)", [1, 3]),
        ("delete(null, 'a')", None),
        ("equals([1, {a: 2}], [1, {a: 2}])", True),
        ("equals({a: 1, b: 2}, {b: 2, a: 1})", True),
        ("equals(1, 1.0)", True),
        ("equals(1, true)", False),
        ("equals([1], [1, 2])", False),
        ("equals(null, null)", True),
        ("equals(0 / 0, 0 / 0)", True),
        ("clone({a: [1, {b: 2}]})", {"a": [1, {"b": 2}]}),
    ],
)
def test_object_functions(source: str, expected: Any) -> None:
    assert ev(source, {**DOC, "$d": DOC}) == expected


def test_object_functions_never_mutate_their_arguments() -> None:
    scope = copy.deepcopy(DOC)
    before = copy.deepcopy(scope)
    for source in ("set(meta, 'b.c', 5)", "set(items, '0.name', 'x')", "delete(meta, 'b.c')",
                   "merge(meta, {a: 9})", "omit(meta, ['a'])", "pick(meta, ['a'])", "set(meta, 'new', 1)",
                   "delete(items, 0)"):
        ev(source, scope)
    assert scope == before
    cloned = ev("clone(items)", scope)
    cloned[0]["tags"].append("changed")
    assert scope == before


def test_set_cannot_allocate_a_huge_list() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("set([], '999999999', 1)", {})
    assert info.value.code == "EXPR_EVAL_ERROR"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("json_encode({a: [1, 2.0, 'x', null, true]})", '{"a":[1,2,"x",null,true]}'),
        ("json_encode(0.1 + 0.2)", "0.30000000000000004"),
        ("json_encode([1e21, 1e-7, 0 / 0, 1 / 0])", "[1e+21,1e-7,null,null]"),
        ("json_encode('é\"\\n')", '"é\\"\\n"'),
        ("json_encode(null)", "null"),
        ("json_encode({a: 1}, 2)", '{\n  "a": 1\n}'),
        ("json_decode(raw)", {"a": [1]}),
        ("json_decode('nope')", None),
        ("json_decode('NaN')", None),
        ("json_decode('{\"a\": 1,}')", None),
        ("json_decode(null)", None),
        ("json_decode(' 42 ')", 42),
        ("json_decode(json_encode({x: [1, 'y']}))", {"x": [1, "y"]}),
        ("base64_encode('hello')", "aGVsbG8="),
        ("base64_encode('é😀')", "w6nwn5iA"),
        ("base64_decode('aGVsbG8=')", "hello"),
        ("base64_decode('aGVsbG8')", "hello"),  # padding optional
        ("base64_decode('w6nwn5iA')", "é😀"),
        ("base64_decode('***')", None),
        ("base64_decode(null)", None),
        ("url_encode('a b&c=d/é')", "a%20b%26c%3Dd%2F%C3%A9"),
        ("url_encode(\"-_.!~*'()\")", "-_.!~*'()"),
        ("url_decode('a%20b%26c+d')", "a b&c+d"),
        ("url_decode(url_encode('x y/é?'))", "x y/é?"),
        ("match('abc123', '[a-z]+(\\\\d+)')", ["abc123", "123"]),
        ("match('abc', '(x)?b')", ["b", None]),
        ("match('abc', 'z')", None),
        ("match('ABC', 'b', 'i')", ["B"]),
        ("match('a1b22', '\\\\d+', 'g')", ["1", "22"]),
        ("match('ab', '\\\\d', 'g')", None),
        ("match('2024-03-05', '(?<y>\\\\d{4})-(?<m>\\\\d{2})')", ["2024-03", "2024", "03"]),
        ("test('abc', '^a')", True),
        ("test('abc', '^A')", False),
        ("test('abc', '^A', 'i')", True),
        ("test(null, 'a')", False),
        ("match_all('a1b2', '([a-z])(\\\\d)')", [["a1", "a", "1"], ["b2", "b", "2"]]),
        ("match_all('xyz', '\\\\d')", []),
        ("hash('abc', 'md5')", hashlib.md5(b"abc").hexdigest()),
        ("hash('abc', 'SHA-1')", hashlib.sha1(b"abc").hexdigest()),
        ("hash('abc', 'sha512')", hashlib.sha512(b"abc").hexdigest()),
        ("hash(null)", None),
        ("pretty({a: [1]})", '{\n  "a": [\n    1\n  ]\n}'),
        ("pretty([])", "[]"),
    ],
)
def test_utility_functions(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_hash_defaults_to_sha256() -> None:
    assert ev("hash('abc')") == hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ExpressionError) as info:
        ev("hash('abc', 'crc32')")
    assert info.value.code == "EXPR_EVAL_ERROR"


def test_uuid_is_a_random_v4() -> None:
    a, b = ev("uuid()"), ev("uuid()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a)
    assert a != b


def test_bad_patterns_and_flags_are_errors() -> None:
    for source in ("match('a', '(')", "test('a', '[')", "match('a', 'a', 'x')"):
        with pytest.raises(ExpressionError) as info:
            ev(source)
        assert info.value.code == "EXPR_EVAL_ERROR"


def test_catastrophic_pattern_times_out() -> None:
    start = time.monotonic()
    with pytest.raises(ExpressionError) as info:
        ev("test(s, '^(a|aa)+$')", {"s": "a" * 5000 + "!"}, Limits(regex_timeout=0.2))
    assert time.monotonic() - start < 2
    assert info.value.code == "EXPR_EVAL_ERROR"
    assert "took too long" in info.value.message


def test_json_encode_is_limited() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("json_encode(x)", {"x": ["y" * 50] * 10}, Limits(max_string_length=100))
    assert info.value.code == "EXPR_EVAL_ERROR"

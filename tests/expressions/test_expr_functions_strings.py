"""String built-ins, Unicode included (strings are sequences of code points)."""

from __future__ import annotations

from typing import Any

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import Limits, compile_expression


def ev(source: str, scope: dict[str, Any] | None = None, limits: Limits | None = None) -> Any:
    return compile_expression(source).evaluate(scope or {}, limits)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("upper('abc')", "ABC"),
        ("upper('straße')", "STRASSE"),
        ("upper('éa😀')", "ÉA😀"),
        ("upper(5)", "5"),
        ("lower('MiXeD')", "mixed"),
        ("lower('ÀÉÎ')", "àéî"),
        ("trim('  Ada Lovelace  ')", "Ada Lovelace"),
        ("trim('\\u00a0\\t x \\n\\ufeff')", "x"),
        ("replace('a-b-c', '-', '+')", "a+b+c"),
        ("replace('a.b.c', '.', '')", "abc"),  # literal, not a pattern
        ("replace('aaa', 'a', '$&')", "$&$&$&"),
        ("replace('ab', '', '-')", "-a-b-"),
        ("replace('abc', 'x')", "abc"),
        ("split('a,b,,c', ',')", ["a", "b", "", "c"]),
        ("split('abc', '')", ["a", "b", "c"]),
        ("split('a😀b', '')", ["a", "😀", "b"]),
        ("split('abc')", ["abc"]),
        ("split('a,b,c', ',', 2)", ["a", "b"]),
        ("split('', ',')", [""]),
        ("join(['z', 'x', 'y'], '/')", "z/x/y"),
        ("join([1, null, 2.0, true])", "1,,2,true"),
        ("join([{a: 1}, [1]], ' ')", '{"a":1} [1]'),
        ("join([])", ""),
        ("truncate('abcdefgh', 5)", "ab..."),
        ("truncate('abc', 5)", "abc"),
        ("truncate('abcde', 5)", "abcde"),
        ("truncate('abcdef', 5, '…')", "abcd…"),
        ("truncate('abcdef', 2)", "ab"),
        ("truncate('abcdef', 4, '')", "abcd"),
        ("length(truncate('a long sentence here', 10))", 10),
        ("includes('flowscript', 'wsc')", True),
        ("includes('flowscript', 'x')", False),
        ("includes([1, 2], 2)", True),
        ("starts_with('flowscript', 'flow')", True),
        ("starts_with('flowscript', 'script')", False),
        ("ends_with('flowscript', 'script')", True),
        ("ends_with('flowscript', 'flow')", False),
        ("substring('flowscript', 4, 10)", "script"),
        ("substring('flowscript', 4)", "script"),
        ("substring('flowscript', 10, 4)", "script"),  # swapped as in JavaScript
        ("substring('abc', -5, 2)", "ab"),
        ("substring('a😀b', 1, 2)", "😀"),
        ("pad_start('7', 3, '0')", "007"),
        ("pad_start('7', 5, 'ab')", "abab7"),
        ("pad_start('abc', 2, '0')", "abc"),
        ("pad_start('7', 3)", "  7"),
        ("pad_end('7', 3, '0')", "700"),
        ("pad_end('ab', 5, 'xy')", "abxyx"),
        ("repeat('ab', 3)", "ababab"),
        ("repeat('ab', 0)", ""),
        ("repeat('ab', -1)", ""),
        ("repeat('ab', 2.7)", "abab"),
        ("char_at('abc', 1)", "b"),
        ("char_at('abc', 5)", ""),
        ("char_at('a😀', 1)", "😀"),
        ("len('hello')", 5),
        ("len('héllo😀')", 6),
        ("len([1, 2])", 2),
        ("len({a: 1})", 1),
        ("len(5)", 0),
    ],
)
def test_string_functions(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("upper(null)", ""), ("lower(null)", ""), ("trim(null)", ""), ("replace(null, 'a', 'b')", ""),
        ("split(null, ',')", []), ("join(null)", ""), ("truncate(null, 3)", ""),
        ("truncate('abcdef', null)", "abcdef"),
        ("includes(null, 'a')", False), ("includes('a', null)", False), ("starts_with(null, 'a')", False),
        ("ends_with('a', null)", False), ("substring(null, 0)", ""), ("pad_start(null, 2, '0')", "00"),
        ("pad_end('a', null)", "a"), ("repeat(null, 3)", ""), ("char_at(null, 0)", ""), ("len(null)", 0),
    ],
)  # fmt: skip
def test_string_functions_read_null_as_empty(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_string_functions_do_not_mutate_and_are_checked_against_limits() -> None:
    limits = Limits(max_string_length=100)
    for source in ("repeat('ab', 51)", "pad_start('x', 101)", "pad_end('x', 101)", "replace(s, 'a', 'bbb')",
                   "join([s, s])"):
        with pytest.raises(ExpressionError) as info:
            ev(source, {"s": "a" * 60}, limits)
        assert info.value.code == "EXPR_EVAL_ERROR"
        assert "limit" in info.value.message
    assert len(ev("repeat('ab', 50)", limits=limits)) == 100

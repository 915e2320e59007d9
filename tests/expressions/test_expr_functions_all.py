"""Every built-in: listed in docs/language.md#function-reference, documented, and total on null."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from flowscript.errors import ExpressionError
from flowscript.expressions import FUNCTIONS, compile_expression

# docs/language.md#function-reference, category by category
SPEC = {
    "string": "upper lower trim replace split join truncate includes starts_with ends_with substring "
              "pad_start pad_end repeat char_at len",
    "array": "length first last slice flatten unique reverse contains index_of sort compact at take skip "
             "range concat",
    "math": "min max sum avg round floor ceil abs pow sqrt random random_int clamp mod sign trunc percent",
    "type": "typeof is_null is_array is_object is_string is_number is_boolean is_empty to_string to_number "
            "to_boolean to_array coalesce default if_else is_finite is_integer is_nan is_truthy is_falsy",
    "object": "keys values entries from_entries get has merge pick omit size set delete equals clone",
    "time": "now date time parse_date format_date add_time subtract_time diff timestamp from_timestamp "
            "start_of end_of get_part is_before is_after relative",
    "utility": "json_encode json_decode base64_encode base64_decode url_encode url_decode uuid match test "
               "match_all hash pretty",
    "higher-order": "map filter find some every count reduce sort_by group_by sum_by",
}


def test_every_function_of_the_spec_exists_in_its_category() -> None:
    for category, names in SPEC.items():
        for name in names.split():
            assert name in FUNCTIONS, name
            assert FUNCTIONS[name].category == category, name
    assert set(FUNCTIONS) == {n for names in SPEC.values() for n in names.split()}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_metadata(name: str) -> None:
    fn = FUNCTIONS[name]
    assert fn.name == name
    assert fn.signature.startswith(name + "(") and fn.signature.endswith(")")
    assert fn.doc and not fn.doc.startswith(name + "(")  # a description, not the signature again
    assert inspect.getdoc(fn.impl).splitlines()[0] == fn.signature  # the docstring states the signature
    assert fn.min_args >= 0 and (fn.max_args is None or fn.max_args >= fn.min_args)


def test_every_function_is_exercised_by_a_test() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_expr_*.py")
                        if p.name != Path(__file__).name)
    untested = [name for name in FUNCTIONS if not re.search(rf"\b{name}\(", sources)]
    assert untested == []


def _arities(name: str) -> range:
    fn = FUNCTIONS[name]
    top = fn.max_args if fn.max_args is not None else fn.min_args + 3
    return range(fn.min_args, top + 1)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_all_null_arguments_never_crash(name: str) -> None:
    for n in _arities(name):
        source = f"{name}({', '.join(['null'] * n)})"
        try:
            compile_expression(source).evaluate({})
        except ExpressionError as e:
            # a refusal is fine, but not an internal failure disguised as one
            assert "failed:" not in e.message, (source, e.message)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("upper", ""), ("split", []), ("first", None), ("sum", 0), ("round", None), ("is_null", True),
     ("keys", []), ("format_date", None), ("json_decode", None), ("map", []), ("count", 0), ("size", 0)],
)  # fmt: skip
def test_null_gives_a_sensible_answer(name: str, expected: object) -> None:
    n = max(1, FUNCTIONS[name].min_args)
    args = ["null"] * n
    if name == "map":
        args = ["null", "x => x"]
    assert compile_expression(f"{name}({', '.join(args)})").evaluate({}) == expected


def test_builtins_can_be_called_directly() -> None:
    assert FUNCTIONS["upper"]("abc") == "ABC"
    assert FUNCTIONS["repeat"]("ab", 2) == "abab"  # takes the evaluation context itself
    with pytest.raises(ExpressionError):
        FUNCTIONS["repeat"]("ab", 10**9)

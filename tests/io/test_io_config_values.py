"""Reading config entries that may arrive as text or as raw values."""

from __future__ import annotations

import pytest

from flowscript.errors import NodeError
from flowscript.nodes.io.config_values import get_bool, get_int, get_number, get_str


def test_numbers_from_text_or_values() -> None:
    assert get_number({"t": "2500"}, "t") == 2500.0
    assert get_number({"t": 1.5}, "t") == 1.5
    assert get_number({}, "t", 30.0) == 30.0
    assert get_number({"t": " "}, "t", 7.0) == 7.0
    assert get_int({"n": "3"}, "n") == 3 and get_int({"n": 3.0}, "n") == 3


@pytest.mark.parametrize(("config", "problem"), [
    ({"n": "abc"}, "expected a number"), ({"n": True}, "expected a number"),
    ({"n": [1]}, "expected a number"),
    ({"n": "inf"}, "finite"), ({"n": "2.5"}, "whole number"), ({"n": "-1"}, "at least 0"),
])
def test_bad_numbers(config: dict, problem: str) -> None:
    with pytest.raises(NodeError, match=problem) as info:
        get_int(config, "n", minimum=0)
    assert info.value.code == "RUN_INVALID_CONFIG" and info.value.message.startswith("n: ")


def test_flags_and_strings() -> None:
    assert get_bool({"p": "OFF"}, "p", True) is False and get_bool({"p": "Yes"}, "p", False) is True
    assert get_bool({"p": None}, "p", True) is True and get_bool({"p": 1}, "p", False) is True
    assert get_str({"s": 3.0}, "s") == "3" and get_str({"s": 2.5}, "s") == "2.5"
    assert get_str({"s": False}, "s") == "false" and get_str({}, "s", "d") == "d"
    with pytest.raises(NodeError, match="expected text"):
        get_str({"s": {"a": 1}}, "s")

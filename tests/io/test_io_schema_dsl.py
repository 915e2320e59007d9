"""The output-schema shorthand -> JSON schema, and its error messages."""

from __future__ import annotations

import pytest

from flowscript.nodes.io.schema_dsl import SchemaDslError, schema_from_dsl


def obj(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": False}


def test_the_spec_example() -> None:
    text = "{summary: string, score: number, tags: string[], items: {a: string}[], flag?: boolean}"
    assert schema_from_dsl(text) == obj({
            "summary": {"type": "string"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "items": {"type": "array", "items": obj({"a": {"type": "string"}})},
            "flag": {"type": "boolean"},
        }, ["summary", "score", "tags", "items"])


@pytest.mark.parametrize(("name", "schema"), [
    ("string", {"type": "string"}), ("number", {"type": "number"}), ("integer", {"type": "integer"}),
    ("boolean", {"type": "boolean"}), ("object", {"type": "object"}), ("array", {"type": "array"}),
    ("null", {"type": "null"}), ("any", {}), ("int", {"type": "integer"}), ("bool", {"type": "boolean"}),
])
def test_every_type_name(name: str, schema: dict) -> None:
    assert schema_from_dsl(f"{{v: {name}}}") == obj({"v": schema})


def test_nested_objects_and_arrays_of_arrays() -> None:
    assert schema_from_dsl("{a: {b: {c?: integer}}, m: number[][]}") == obj({
        "a": obj({"b": obj({"c": {"type": "integer"}}, [])}),
        "m": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    })


def test_unions_and_grouping() -> None:
    text = "{a: string | null, b: (string | number)[], c: {x: string} | null, d: any | string}"
    assert schema_from_dsl(text) == obj({
            "a": {"type": ["string", "null"]},
            "b": {"type": "array", "items": {"type": ["string", "number"]}},
            "c": {"anyOf": [obj({"x": {"type": "string"}}), {"type": "null"}]},
            "d": {},
        })


def test_fields_on_lines_semicolons_and_trailing_commas() -> None:
    text = """{
      summary: string
      score?: number;
      "full name": string,
    }"""
    assert schema_from_dsl(text) == obj({"summary": {"type": "string"}, "score": {"type": "number"},
                                         "full name": {"type": "string"}}, ["summary", "full name"])
    assert schema_from_dsl("{}") == obj({})


def test_quoted_json_like_shorthand() -> None:
    assert schema_from_dsl('{"summary": "string", "tags": "string[]"}') == obj({
        "summary": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}})


def test_non_object_roots() -> None:
    assert schema_from_dsl("string[]") == {"type": "array", "items": {"type": "string"}}
    assert schema_from_dsl(" {a: string}[] ") == {"type": "array", "items": obj({"a": {"type": "string"}})}


def test_json_schema_text_is_taken_as_is() -> None:
    text = '{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}'
    assert schema_from_dsl(text) == {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}
    assert schema_from_dsl('{"anyOf": [{"type": "string"}]}') == {"anyOf": [{"type": "string"}]}


@pytest.mark.parametrize(("text", "problem", "position"), [
    ("{a string}", "expected ':' after field 'a', found 's'", 3),
    ("{a: strng}", "unknown type 'strng'", 4),
    ("{a: string", "missing '}' at the end of the object", 10),
    ("{a: string b: number}", "expected ',' or '}' after field 'a', found 'b'", 11),
    ("{a: string[}", "expected ']' after '[', found '}'", 11),
    ("{a: string, a: number}", "field 'a' is given twice", 12),
    ("{a: string}}", "unexpected '}' after the schema", 11),
    ('{a: "string', "unterminated quoted text", 4),
    ("{1a: string}", "expected a field name, found '1'", 1),
    ("{a: (string}", "expected ')', found '}'", 11),
    ("{a: }", "expected a type, found '}'", 4),
    ("{a: string |}", "expected a type, found '}'", 12),
    ('{"a": "strin"}', "unknown type 'strin'", 7),
    ("", "the schema is empty", 0),
])
def test_errors_say_what_and_where(text: str, problem: str, position: int) -> None:
    with pytest.raises(SchemaDslError) as info:
        schema_from_dsl(text)
    e = info.value
    assert e.problem.startswith(problem) and e.position == position
    assert e.message == f"output-schema: {e.problem} at column {position + 1}"
    assert e.code == "RUN_INVALID_CONFIG" and not e.retryable and e.hint


def test_error_position_on_a_later_line() -> None:
    with pytest.raises(SchemaDslError) as info:
        schema_from_dsl("{\n  a: string,\n  b: nmber\n}")
    assert info.value.message.endswith("at line 3, column 6")

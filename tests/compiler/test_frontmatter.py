"""The frontmatter: splitting, safe YAML with file positions, metadata rules (docs/language.md#frontmatter)."""

from __future__ import annotations

import pytest

from flowscript.compiler.ast import ConfigField, Workflow
from flowscript.compiler.parser import parse_workflow_text
from flowscript.errors import FlowScriptError, MultipleErrors
from flowscript.syntax.source import Location

BODY = "\n# Doc\n\n<workflow>\n  <transform id=\"t\"><template>x</template></transform>\n</workflow>\n"


def parse(frontmatter: str, body: str = BODY) -> Workflow:
    return parse_workflow_text(f"---\n{frontmatter}---\n{body}", path="f.flow.md")


def problems(frontmatter: str, body: str = BODY) -> list[FlowScriptError]:
    with pytest.raises(FlowScriptError) as caught:
        parse(frontmatter, body)
    error = caught.value
    return error.errors if isinstance(error, MultipleErrors) else [error]


def one(frontmatter: str, body: str = BODY) -> FlowScriptError:
    found = problems(frontmatter, body)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]


def at(error: FlowScriptError) -> tuple[int, int]:
    assert error.location is not None
    assert error.location.file == "f.flow.md"
    return error.location.line, error.location.column


# ------------------------------------------------------------------ splitting


def test_minimal_frontmatter() -> None:
    workflow = parse("name: demo\nversion: 1.2.3\n")
    meta = workflow.meta
    assert (meta.name, meta.version, meta.description, meta.trigger.type, meta.config, meta.secrets) == (
        "demo", "1.2.3", None, "manual", {}, [])
    assert workflow.meta_locations["name"] == Location(2, 1)
    assert workflow.meta_locations["version"] == Location(3, 1)
    assert workflow.body_location is not None and workflow.body_location.line == 8


@pytest.mark.parametrize(
    "text",
    [
        "name: x\nversion: 1.0\n---\n<workflow></workflow>",
        "\n---\nname: x\nversion: 1.0\n---\n<workflow></workflow>",
        " ---\nname: x\n---\n<workflow></workflow>",
        "",
        "<workflow></workflow>",
    ],
)
def test_missing_frontmatter(text: str) -> None:
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_text(text, path="f.flow.md")
    assert caught.value.code == "PARSE_MISSING_FRONTMATTER"
    assert at(caught.value) == (1, 1)


def test_unterminated_frontmatter() -> None:
    with pytest.raises(FlowScriptError) as caught:
        parse_workflow_text("---\nname: x\nversion: 1.0\n<workflow></workflow>\n", path="f.flow.md")
    assert caught.value.code == "PARSE_MISSING_FRONTMATTER"
    assert "never closed" in caught.value.message and caught.value.hint


def test_fences_tolerate_trailing_spaces_bom_and_crlf() -> None:
    text = "\ufeff--- \r\nname: x\r\nversion: '1.0'\r\n---\t\r\n<workflow>\r\n</workflow>\r\n"
    workflow = parse_workflow_text(text)
    assert (workflow.meta.name, workflow.meta.version) == ("x", "1.0")
    assert workflow.body_location is not None
    assert workflow.body_location == Location(5, 1)


def test_missing_body() -> None:
    error = one("name: x\nversion: 1.0\n", "\nJust prose, `<workflow>` in code only.\n")
    assert error.code == "PARSE_MISSING_BODY"
    assert at(error) == (5, 1) and error.hint


# ------------------------------------------------------------------ YAML


def test_bad_yaml_reports_the_file_position() -> None:
    error = one("name: x\nversion: 1.0\nconfig: {a: [1, 2}\n")
    assert error.code == "PARSE_YAML_INVALID"
    assert at(error) == (4, 18)


def test_bad_indentation_position() -> None:
    error = one("name: x\nversion: 1.0\n  description: y\n")
    assert error.code == "PARSE_YAML_INVALID" and at(error)[0] == 4


def test_tabs_and_control_characters() -> None:
    error = one("name: x\x07\nversion: 1.0\n")
    assert error.code == "PARSE_YAML_INVALID" and at(error) == (2, 8)


def test_no_object_construction() -> None:
    error = one("name: !!python/object/apply:os.system ['echo hi']\nversion: 1.0\n")
    assert error.code == "PARSE_YAML_INVALID"


def test_yaml_library_value_errors_are_parse_errors() -> None:
    assert one("name: x\nversion: 1.0\nwhen: 2024-02-30\n").code == "PARSE_YAML_INVALID"


def test_recursive_alias_is_refused() -> None:
    error = one("name: x\nversion: 1.0\nschemas: &a {self: *a}\n")
    assert error.code == "PARSE_YAML_INVALID" and "recursive" in error.message


def test_alias_bomb_is_refused() -> None:
    lines = ["name: x", "version: 1.0", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    error = one("\n".join(lines) + "\n")
    assert error.code == "PARSE_YAML_INVALID" and "too many values" in error.message


def test_plain_aliases_are_fine() -> None:
    workflow = parse("name: x\nversion: 1.0\nbase: &d {type: number, default: 3}\nconfig: {a: *d, b: *d}\n")
    assert workflow.meta.config["b"].default == 3


# ------------------------------------------------------------------ name, version, description


def test_frontmatter_must_be_a_mapping() -> None:
    assert one("- a\n- b\n").code == "VALID_INVALID_FIELD_TYPE"


def test_empty_frontmatter_misses_name_and_version() -> None:
    found = problems("")
    assert [e.code for e in found] == ["VALID_MISSING_REQUIRED_FIELD"] * 2


@pytest.mark.parametrize(
    ("value", "code"),
    [("''", "VALID_MISSING_REQUIRED_FIELD"), ("'  '", "VALID_MISSING_REQUIRED_FIELD"),
     ("12", "VALID_INVALID_FIELD_TYPE"), ("[a]", "VALID_INVALID_FIELD_TYPE")],
)
def test_bad_names(value: str, code: str) -> None:
    error = one(f"name: {value}\nversion: 1.0\n")
    assert error.code == code and at(error) == (2, 7)


def test_missing_name() -> None:
    error = one("version: 1.0\n")
    assert error.code == "VALID_MISSING_REQUIRED_FIELD" and "name" in error.message and error.hint


@pytest.mark.parametrize(("written", "kept"), [("1.0", "1.0"), ("1.10", "1.10"), ("'2.3.4'", "2.3.4"),
                                               ("0.1.0", "0.1.0")])
def test_versions(written: str, kept: str) -> None:
    assert parse(f"name: x\nversion: {written}\n").meta.version == kept


@pytest.mark.parametrize("written", ["1", "v1.0", "1.0.0.0", "true", "1.0e3", "[1]", "1.x"])
def test_bad_versions(written: str) -> None:
    error = one(f"name: x\nversion: {written}\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (3, 10)


def test_missing_version() -> None:
    assert one("name: x\n").code == "VALID_MISSING_REQUIRED_FIELD"


def test_description_must_be_text() -> None:
    assert parse("name: x\nversion: 1.0\ndescription: Does things.\n").meta.description == "Does things."
    assert one("name: x\nversion: 1.0\ndescription: [a]\n").code == "VALID_INVALID_FIELD_TYPE"


def test_unknown_top_level_keys_are_documentation() -> None:
    workflow = parse("name: x\nversion: 1.0\nauthor: me\ntags: [a, b]\n")
    assert workflow.meta.name == "x" and "author" in workflow.meta_locations


def test_repeated_key() -> None:
    error = one("name: x\nversion: 1.0\nname: y\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (4, 1)


# ------------------------------------------------------------------ trigger


@pytest.mark.parametrize("kind", ["manual", "webhook", "schedule"])
def test_trigger_names(kind: str) -> None:
    trigger = parse(f"name: x\nversion: 1.0\ntrigger: {kind}\n").meta.trigger
    assert (trigger.type, trigger.config) == (kind, {})


def test_trigger_mapping() -> None:
    trigger = parse('name: x\nversion: 1.0\ntrigger: {type: schedule, config: {cron: "0 6 * * *", timezone: '
                    "Europe/Paris}}\n").meta.trigger
    assert trigger.type == "schedule" and trigger.config == {"cron": "0 6 * * *", "timezone": "Europe/Paris"}


def test_unknown_trigger_lists_the_allowed_ones() -> None:
    error = one("name: x\nversion: 1.0\ntrigger: schedul\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (4, 10)
    assert error.hint == "did you mean 'schedule'? allowed: manual, webhook, schedule"


@pytest.mark.parametrize(
    "trigger",
    ["{type: cron}", "{config: {}}", "{type: schedule, config: [1]}", "{type: schedule, cron: x}", "[manual]",
     "{type: 3}"],
)
def test_bad_trigger_mappings(trigger: str) -> None:
    assert problems(f"name: x\nversion: 1.0\ntrigger: {trigger}\n")


# ------------------------------------------------------------------ config


def test_config_fields_and_locations() -> None:
    workflow = parse(
        "name: x\nversion: 1.0\nconfig:\n"
        "  min_score: {type: number, default: 60, description: Minimum score}\n"
        "  output_path: {type: string, default: ./out.json, required: false}\n"
        "  needed: {type: array, required: true}\n"
        "  extra: {type: object, default: {a: 1}, enum: [1, 2]}\n"
    )
    config = workflow.meta.config
    assert config["min_score"] == ConfigField(type="number", default=60, description="Minimum score", required=False)
    assert config["output_path"].default == "./out.json"
    assert config["needed"].required is True and config["needed"].default is None
    assert config["extra"].extra["enum"] == [1, 2]
    assert workflow.meta_locations["config"] == Location(4, 1)
    assert workflow.meta_locations["config.min_score"] == Location(5, 3)
    assert workflow.meta_locations["config.needed"] == Location(7, 3)


def test_config_shorthand_infers_the_type() -> None:
    config = parse("name: x\nversion: 1.0\nconfig: {count: 5, ratio: 0.5, name: bob, flag: true, tags: [a], "
                   "nothing: null, day: 2024-01-02}\n").meta.config
    assert {k: (f.type, f.default) for k, f in config.items()} == {
        "count": ("number", 5), "ratio": ("number", 0.5), "name": ("string", "bob"), "flag": ("boolean",
                                                                                              True),
        "tags": ("array", ["a"]), "nothing": ("string", None), "day": ("string", "2024-01-02")}


@pytest.mark.parametrize(
    ("field", "default"),
    [("number", "'60'"), ("string", "60"), ("boolean", "'yes'"), ("array", "{a: 1}"), ("object", "[1]"),
     ("number", "true")],
)
def test_default_of_the_wrong_type(field: str, default: str) -> None:
    error = one(f"name: x\nversion: 1.0\nconfig:\n  count: {{type: {field}, default: {default}}}\n")
    assert error.code == "VALID_TYPE_MISMATCH" and "'count'" in error.message
    assert at(error)[0] == 5


def test_unknown_config_type() -> None:
    error = one("name: x\nversion: 1.0\nconfig:\n  count: {type: integer}\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (5, 17)
    assert "string, number, boolean, object, array" in (error.hint or "")


@pytest.mark.parametrize("spec", ["{required: 'yes'}", "{description: 3}", "[1, {a: 2}]x"])
def test_other_bad_config_fields(spec: str) -> None:
    assert problems(f"name: x\nversion: 1.0\nconfig:\n  a: {spec}\n")


def test_yaml_boolean_keys_get_a_hint() -> None:
    error = one("name: x\nversion: 1.0\nconfig: {on: 1}\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and "quote" in (error.hint or "")


def test_config_must_be_a_mapping() -> None:
    assert one("name: x\nversion: 1.0\nconfig: [a, b]\n").code == "VALID_INVALID_FIELD_TYPE"


# ------------------------------------------------------------------ secrets, schemas


def test_secrets() -> None:
    secrets = parse("name: x\nversion: 1.0\nsecrets: [API_KEY, OTHER, API_KEY]\n").meta.secrets
    assert secrets == ["API_KEY", "OTHER"]
    error = one("name: x\nversion: 1.0\nsecrets: [API_KEY, not-valid]\n")
    assert error.code == "VALID_INVALID_FIELD_TYPE" and at(error) == (4, 20)
    assert one("name: x\nversion: 1.0\nsecrets: API_KEY\n").code == "VALID_INVALID_FIELD_TYPE"


def test_schemas_are_kept_as_is() -> None:
    schemas = parse("name: x\nversion: 1.0\nschemas: {user: {name: string, tags: [a]}}\n").meta.schemas
    assert schemas == {"user": {"name": "string", "tags": ["a"]}}
    assert one("name: x\nversion: 1.0\nschemas: [1]\n").code == "VALID_INVALID_FIELD_TYPE"


# ------------------------------------------------------------------ together with the body


def test_metadata_and_body_problems_are_reported_together() -> None:
    found = problems("name: ''\nversion: 1\n", "\n<workflow>\n  <trasform id=\"t\"/>\n</workflow>\n")
    assert [(e.code, at(e)) for e in found] == [
        ("VALID_MISSING_REQUIRED_FIELD", (2, 7)),
        ("VALID_INVALID_FIELD_TYPE", (3, 10)),
        ("VALID_UNKNOWN_NODE_TYPE", (7, 3)),
    ]

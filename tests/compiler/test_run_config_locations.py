"""Config and secret mistakes are reported at the declaration they concern
(docs/language.md#frontmatter): `-c enabled=maybe` for a boolean field, a required field left
out, a declared secret with no value or one too short to redact, each with the file:line:column
of the field's or secret's declaration, as every other diagnostic has."""

from __future__ import annotations

import pytest

from flowscript.errors import FlowScriptError, MultipleErrors
from flowscript.runtime.launch import prepare_run

HEAD = """---
name: located
version: 1.0.0
config:
  enabled: {type: boolean, default: false}
  region: {type: string, required: true}
  count: 3
secrets:
  - API_TOKEN
  - PIN
---
<workflow>
  <transform id="t" type="template"><template>{{$config.region}} {{$secrets.API_TOKEN}} {{$secrets.PIN}}</template></transform>
</workflow>
"""


@pytest.fixture
def flow(tmp_path):
    path = tmp_path / "located.flow.md"
    path.write_text(HEAD, encoding="utf-8")
    return path


def failure(flow, config: dict[str, str], env: dict[str, str]) -> list[FlowScriptError]:
    with pytest.raises(FlowScriptError) as raised:
        prepare_run(flow, config, env=env)
    error = raised.value
    return error.errors if isinstance(error, MultipleErrors) else [error]


ENV = {"API_TOKEN": "tok-123", "PIN": "4242"}


def test_a_config_value_of_the_wrong_type_points_at_the_field(flow):
    [error] = failure(flow, {"enabled": "maybe", "region": "eu"}, ENV)
    assert error.code == "VALID_TYPE_MISMATCH" and "'enabled' must be a boolean" in error.message
    assert error.render().startswith(f"{flow}:5:3: VALID_TYPE_MISMATCH")
    assert "true or false" in error.hint


def test_a_required_field_left_out_points_at_the_field(flow):
    [error] = failure(flow, {}, ENV)
    assert error.code == "VALID_MISSING_REQUIRED_FIELD" and str(error.location) == f"{flow}:6:3"


def test_several_config_mistakes_each_have_their_location(flow):
    errors = failure(flow, {"count": "three", "nope": "1"}, ENV)
    assert [(e.code, str(e.location)) for e in errors] == [
        ("VALID_INVALID_FIELD_TYPE", f"{flow}:4:1"),  # an undeclared name: the config block
        ("VALID_MISSING_REQUIRED_FIELD", f"{flow}:6:3"), ("VALID_TYPE_MISMATCH", f"{flow}:7:3")]


def test_a_used_secret_without_a_value_points_at_its_declaration(flow):
    errors = failure(flow, {"region": "eu"}, {"PIN": "4242"})
    assert [(e.code, str(e.location)) for e in errors] == [("VALID_UNDEFINED_SECRET_REF", f"{flow}:9:5")]
    assert "API_TOKEN" in errors[0].message and "API_TOKEN" in errors[0].hint
    both = failure(flow, {"region": "eu"}, {})
    assert [str(e.location) for e in both] == [f"{flow}:9:5", f"{flow}:10:5"]


@pytest.mark.parametrize("pin", ["4", "42"])
def test_a_secret_too_short_to_redact_is_refused_before_the_run(flow, pin: str):
    """`PIN=42` was written in clear everywhere (redaction skipped values under 3 characters):
    "42" cannot be cut out of a state file without cutting timestamps and counts too."""
    [error] = failure(flow, {"region": "eu"}, {"API_TOKEN": "tok-123", "PIN": pin})
    assert error.code == "VALID_SECRET_TOO_SHORT" and str(error.location) == f"{flow}:10:5"
    assert error.hint and "at least 3 characters" in error.hint
    assert pin not in error.message + error.hint  # (the rendered path may hold the digits: tmp_path)


def test_good_values_pass(flow):
    prepared = prepare_run(flow, {"region": "eu", "enabled": "true"}, env=ENV)
    assert prepared.config == {"enabled": True, "region": "eu", "count": 3}
    assert prepared.secrets == ENV

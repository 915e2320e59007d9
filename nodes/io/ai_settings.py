"""What an ai transform asks for, read from its resolved config, the environment and secrets.

Everything that can be wrong with the config is found here, before any request is sent:
a bad value fails at once (RUN_INVALID_CONFIG), never after a paid round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from flowscript.errors import AIError
from flowscript.expressions import to_json
from flowscript.nodes.io.config_values import config_error, describe, get_int, get_number, get_str
from flowscript.nodes.io.schema_dsl import schema_from_dsl

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
BASE_URL_ENV = "FLOWSCRIPT_AI_BASE_URL"
DEFAULT_KEY_SECRET = "OPENROUTER_API_KEY"
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_MS = 120_000  # completions are slow; the attempt timeout still applies
_COMPLETIONS = "/chat/completions"


@dataclass(frozen=True, slots=True)
class AISettings:
    """One ai transform's request, ready to send (the API key aside)."""

    endpoint: str
    model: str
    system: str | None
    user: str
    max_tokens: int | None
    temperature: float | None
    schema: dict[str, Any] | None
    max_retries: int
    timeout_s: float
    key_secret: str


def endpoint_url(config: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """`<base>/chat/completions`; base from `base-url`, else FLOWSCRIPT_AI_BASE_URL, else OpenRouter."""
    base = (get_str(config, "base-url") or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).strip().rstrip("/")
    try:
        url = httpx.URL(base)
    except (httpx.InvalidURL, ValueError) as e:
        raise config_error("base-url", f"not a valid URL ({e})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise config_error("base-url", "expected an absolute http:// or https:// URL")
    return base if base.endswith(_COMPLETIONS) else base + _COMPLETIONS


def output_schema(value: Any) -> dict[str, Any] | None:
    """Config `output-schema` (shorthand text, JSON schema text, or a mapping) as a checked JSON schema."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Mapping):
        schema = dict(value)
    elif isinstance(value, str):
        schema = schema_from_dsl(value)
    else:
        raise config_error("output-schema", f"expected a schema, got {describe(value)}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise config_error("output-schema", f"not a valid JSON schema: {e.message}") from None
    return schema


def _prompt(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)


def ai_settings(config: Mapping[str, Any], input: Any, env: Mapping[str, str]) -> AISettings:
    """The request an ai transform makes; `user` defaults to the input as JSON."""
    model = get_str(config, "model")
    if not model or not model.strip():
        raise config_error("model", "the ai transform needs a model", hint='e.g. model="openai/gpt-4o-mini"')
    system = config.get("system")
    user = config.get("user")
    timeout_ms = get_number(config, "timeout", DEFAULT_TIMEOUT_MS, minimum=1)
    assert timeout_ms is not None
    return AISettings(
        endpoint=endpoint_url(config, env),
        model=model.strip(),
        system=None if system is None or system == "" else _prompt(system),
        user=_prompt(input) if user is None else _prompt(user),
        max_tokens=get_int(config, "max-tokens", minimum=1),
        temperature=get_number(config, "temperature", minimum=0),
        schema=output_schema(config.get("output-schema")),
        max_retries=get_int(config, "max-retries", DEFAULT_MAX_RETRIES, minimum=0) or 0,
        timeout_s=timeout_ms / 1000,
        key_secret=(get_str(config, "api-key-secret") or DEFAULT_KEY_SECRET).strip(),
    )


def api_key(settings: AISettings, secrets: Mapping[str, str]) -> str:
    """The API key from the run's secrets; a missing one names the secret to set."""
    name = settings.key_secret
    key = (secrets.get(name) or "").strip()  # a trailing newline from a .env file is common
    if not key:
        raise AIError(f"the ai transform needs an API key in the secret {name}, which has no value; "
                      f"declare {name} in the workflow's `secrets:` and set the environment variable {name}")
    if not key.isascii() or any(c.isspace() or not c.isprintable() for c in key):
        raise AIError(f"the secret {name} does not hold an API key (it has spaces or non-ASCII characters)")
    return key

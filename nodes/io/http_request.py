"""Building the HTTP request of an http source or sink from its resolved config.

One implementation of every request rule (method, url, params, headers, auth, body,
timeout) for both nodes. Header values and credentials are never put in an error
message: they may hold secrets.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from flowscript.expressions import to_json, to_template_string
from flowscript.nodes.io.config_values import config_error, describe, get_number, get_str

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
DEFAULT_TIMEOUT_MS = 30_000
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 9110 header name
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Payload:
    """A request body and its content type."""

    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready to send, with the whole-request time limit in seconds."""

    request: httpx.Request
    timeout_s: float


def json_payload(value: Any) -> Payload:
    """`value` as JSON, printed as JavaScript would (3.0 is `3`)."""
    return Payload(to_json(value).encode("utf-8"), JSON_TYPE)


def body_payload(body: Any) -> Payload | None:
    """Config `body`: a string is sent as text, None as no body, anything else as JSON."""
    if body is None:
        return None
    if isinstance(body, str):
        return Payload(body.encode("utf-8"), TEXT_TYPE)
    return json_payload(body)


def _method(config: Mapping[str, Any], default: str) -> str:
    method = (get_str(config, "method") or default).strip().upper()
    if method not in METHODS:
        raise config_error("method", f"unknown HTTP method {describe(method)}; "
                                     f"use one of {', '.join(METHODS)}")
    return method


def _scalar(value: Any) -> str:
    return to_json(value) if isinstance(value, (list, dict)) else to_template_string(value)


def _params(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    params = config.get("params")
    if params is None:
        return []
    if isinstance(params, str):
        return list(httpx.QueryParams(params.lstrip("?")).multi_items())
    if not isinstance(params, Mapping):
        raise config_error("params", f"expected a mapping of names to values, got {describe(params)}")
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((str(name), _scalar(v)) for v in values if v is not None)
    return pairs


def _url(config: Mapping[str, Any], params: list[tuple[str, str]]) -> httpx.URL:
    text = get_str(config, "url")
    if not text or not text.strip():
        raise config_error("url", "an http node needs a url", hint='e.g. url="https://api.example.com/items"')
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as e:
        raise config_error("url", f"not a valid URL ({e})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise config_error("url", "expected an absolute http:// or https:// URL",
                           hint="check the template that builds the URL")
    return url.copy_merge_params(tuple(params)) if params else url


def _header_value(name: str, value: Any) -> str:
    text = _scalar(value)
    if "\r" in text or "\n" in text or "\x00" in text:
        raise config_error("headers", f"the value of header {name!r} contains a line break or NUL")
    return text


def _headers(config: Mapping[str, Any]) -> dict[str, str]:
    headers = config.get("headers")
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise config_error("headers", "expected a mapping of header names to values, "
                                      f"got {type(headers).__name__}")
    out: dict[str, str] = {}
    for name, value in headers.items():
        name = str(name).strip()
        if not _TOKEN.match(name):
            raise config_error("headers", f"{name!r} is not a valid header name")
        if value is not None:
            out[name] = _header_value(name, value)
    return out


def authorization(auth: Any) -> str | None:
    """The Authorization header for config `auth`.

    `{type: bearer, token}`, `{type: basic, username (or user), password}`, or a string:
    `"Bearer xyz"` / `"Basic ..."` is sent as written, a bare token as a bearer token."""
    if auth is None or auth == "":
        return None
    if isinstance(auth, str):
        text = auth.strip()
        if "\r" in text or "\n" in text:
            raise config_error("auth", "the credentials contain a line break")
        return text if " " in text else f"Bearer {text}"
    if not isinstance(auth, Mapping):
        raise config_error("auth", f"expected a mapping or a string, got {type(auth).__name__}")
    kind = str(auth.get("type") or ("basic" if "username" in auth or "user" in auth else "bearer")).lower()
    if kind == "none":
        return None
    if kind == "bearer":
        token = auth.get("token")
        if not isinstance(token, str) or not token.strip():
            raise config_error("auth", "bearer auth needs a non-empty `token`")
        return authorization(f"Bearer {token.strip()}")
    if kind == "basic":
        user = auth.get("username", auth.get("user"))
        password = auth.get("password", "")
        if user is None or user == "":
            raise config_error("auth", "basic auth needs a `username`")
        pair = f"{_scalar(user)}:{_scalar(password)}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    raise config_error("auth", f"unknown auth type {describe(kind)}; use bearer or basic")


def timeout_seconds(config: Mapping[str, Any], default_ms: float = DEFAULT_TIMEOUT_MS) -> float:
    """Config `timeout` (milliseconds, default 30000) in seconds."""
    ms = get_number(config, "timeout", default_ms, minimum=1)
    assert ms is not None
    return ms / 1000


def prepare_request(client: httpx.AsyncClient, config: Mapping[str, Any], *, default_method: str,
                    payload: Payload | None) -> PreparedRequest:
    """The request described by `config`, with `payload` as its body."""
    method = _method(config, default_method)
    url = _url(config, _params(config))
    headers = _headers(config)
    credentials = authorization(config.get("auth"))
    if credentials is not None:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        headers["Authorization"] = credentials
    if payload is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = payload.content_type
    timeout_s = timeout_seconds(config)
    try:
        request = client.build_request(method, url, headers=headers,
                                       content=payload.content if payload is not None else None,
                                       timeout=httpx.Timeout(timeout_s))
    except UnicodeEncodeError:
        raise config_error("headers", "header values must be ASCII text") from None
    return PreparedRequest(request, timeout_s)

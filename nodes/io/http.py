"""The http source and the http sink (docs/language.md#http).

Both build their request with http_request and read the answer with http_response, so
the rules (auth, params, timeouts, error classification) exist once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from flowscript.nodes.io.extract import apply_extract, compile_extract
from flowscript.nodes.io.http_request import body_payload, json_payload, prepare_request
from flowscript.nodes.io.http_response import http_error, is_success, response_body, send, status_text


async def http_source(config: Mapping[str, Any], *, client: httpx.AsyncClient) -> Any:
    """The answer to the configured request (GET by default), JSON parsed, `extract` applied."""
    extract = compile_extract(config.get("extract"))
    prepared = prepare_request(client, config, default_method="GET", payload=body_payload(config.get("body")))
    response = await send(client, prepared.request, prepared.timeout_s)
    body = response_body(response)
    if not is_success(response):
        raise http_error(response, body)
    return apply_extract(extract, body)


async def http_sink(value: Any, config: Mapping[str, Any], *, client: httpx.AsyncClient) -> dict[str, Any]:
    """Sends `value` as JSON (POST by default); output `{status, statusText, headers}`.

    An explicit config `body` is sent instead of the input."""
    payload = body_payload(config["body"]) if config.get("body") is not None else json_payload(value)
    prepared = prepare_request(client, config, default_method="POST", payload=payload)
    response = await send(client, prepared.request, prepared.timeout_s)
    if not is_success(response):
        raise http_error(response, response_body(response))
    return {
        "status": response.status_code,
        "statusText": status_text(response),
        "headers": {name.lower(): value for name, value in response.headers.items()},
    }

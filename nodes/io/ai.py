"""The ai transform (docs/language.md#ai): one chat completion, re-asked while the answer is invalid.

Failures are AIError: rate limits (429), server errors (5xx), timeouts and lost
connections are retryable (the engine retries, honouring Retry-After); other 4xx answers
and answers that never match the output schema are not. The API key travels only in the
Authorization header and is cut out of every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from flowscript.errors import AIError, NodeTimeoutError, TransportError
from flowscript.expressions import to_json
from flowscript.nodes.io.ai_protocol import (
    Completion,
    InvalidAnswer,
    Usage,
    error_status,
    initial_messages,
    provider_message,
    read_completion,
    reask_message,
    request_body,
    structured_answer,
    text_answer,
)
from flowscript.nodes.io.ai_settings import AISettings, ai_settings, api_key
from flowscript.nodes.io.http_response import is_success, response_body, retry_after, send, status_text


@dataclass(frozen=True, slots=True)
class AIResult:
    """The node's output, and the token figures that go in the node result."""

    output: Any
    usage: dict[str, int] = field(default_factory=dict)


NODE_HEADER = "X-FlowScript-Node"  # which node asks: for a proxy's logs, and flowscript.testing's fake model


def _redact(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def _is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


async def _complete(client: httpx.AsyncClient, settings: AISettings, key: str,
                    messages: list[dict[str, Any]], node_id: str) -> Any:
    """One chat-completions request; the parsed answer body, or AIError."""
    request = client.build_request(
        "POST", settings.endpoint, content=to_json(request_body(settings, messages)).encode("utf-8"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                 "Accept": "application/json", NODE_HEADER: node_id},
        timeout=httpx.Timeout(settings.timeout_s))
    try:
        response = await send(client, request, settings.timeout_s)
    except (NodeTimeoutError, TransportError) as e:  # only a timeout retries (docs/language.md#retries-and-fallback)
        raise AIError(f"AI request failed: {_redact(e.message, key)}", retryable=e.retryable) from None
    body = response_body(response)
    if not is_success(response):
        status = response.status_code
        raise AIError(_redact(f"AI endpoint answered HTTP {status} {status_text(response)}: "
                              f"{provider_message(body)}", key),
                      retryable=_is_retryable(status), retry_after=retry_after(response))
    reported = error_status(body)
    if reported is not None:
        raise AIError(_redact(f"AI endpoint reported an error ({reported or 'no code'}): "
                              f"{provider_message(body)}", key), retryable=_is_retryable(reported))
    return body


def _completion(body: Any, key: str) -> Completion:
    completion = read_completion(body)
    if completion is None:
        raise AIError(_redact(f"AI endpoint answered without a choice: {provider_message(body)}", key))
    return completion


async def ai_transform(config: Mapping[str, Any], input: Any, *, client: httpx.AsyncClient,
                       secrets: Mapping[str, str], env: Mapping[str, str], node_id: str = "") -> AIResult:
    """The model's answer to the configured prompt.

    With `output-schema`: the `respond` tool call's arguments, validated, re-asked up to
    `max-retries` times with the validation error. Without: the text, parsed if JSON."""
    settings = ai_settings(config, input, env)
    key = api_key(settings, secrets)
    usage = Usage()
    messages = initial_messages(settings)
    attempts = settings.max_retries + 1
    error: InvalidAnswer | None = None
    for _ in range(attempts):
        body = await _complete(client, settings, key, messages, node_id)
        usage.add(body.get("usage") if isinstance(body, Mapping) else None)
        completion = _completion(body, key)
        if settings.schema is None:
            return AIResult(text_answer(completion), usage.as_dict())
        try:
            return AIResult(structured_answer(completion, settings.schema), usage.as_dict())
        except InvalidAnswer as e:
            error = e
            messages = [*initial_messages(settings), reask_message(e, completion)]
    raise AIError(_redact(f"the model's answer did not match the output schema after {attempts} "
                          f"attempt(s): {error}", key))

"""Sending a request and reading the answer, for the http nodes and the ai transform.

One place decides what a failure means for the retry policy (docs/language.md#retries-and-fallback): no answer
in time -> NodeTimeoutError (retryable), no connection -> TransportError (not), a non-2xx
answer -> HttpError (retryable for 429 and 5xx, with the server's Retry-After).
"""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import httpx

from flowscript.errors import HttpError, NodeTimeoutError, TransportError
from flowscript.nodes.io.config_values import config_error

RETRY_AFTER_STATUSES = frozenset({429, 503})


def safe_url(url: httpx.URL) -> str:
    """The URL without credentials or query string (either may hold a secret)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


async def send(client: httpx.AsyncClient, request: httpx.Request, timeout_s: float) -> httpx.Response:
    """The answer to `request`, read in full within `timeout_s` seconds.

    Cancelling the calling task aborts the request (CancelledError propagates)."""
    where = f"{request.method} {safe_url(request.url)}"
    try:
        async with asyncio.timeout(timeout_s):
            return await client.send(request)
    except (TimeoutError, httpx.TimeoutException):
        raise NodeTimeoutError(f"{where}: no answer within {timeout_s:g} s") from None
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as e:
        raise config_error("url", f"{where}: the request cannot be sent ({type(e).__name__})") from None
    except httpx.TransportError as e:
        detail = str(e) or type(e).__name__
        raise TransportError(f"{where}: connection failed ({detail})") from None


def status_text(response: httpx.Response) -> str:
    """The reason phrase the server sent, else the standard one for the status."""
    if response.reason_phrase:
        return response.reason_phrase
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return ""


def is_json_type(content_type: str | None) -> bool:
    """application/json, text/json and any `+json` media type."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.endswith("/json") or media.endswith("+json")


def response_body(response: httpx.Response) -> Any:
    """The body: parsed when the content type is JSON (None when empty), else text.

    A body that claims JSON but does not parse is returned as text."""
    if is_json_type(response.headers.get("content-type")):
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return response.text
    return response.text


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (never < 0)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after(response: httpx.Response) -> float | None:
    """The server's Retry-After, for the statuses where it sets the retry delay (429, 503)."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        return None
    return parse_retry_after(response.headers.get("retry-after"))


def http_error(response: httpx.Response, body: Any) -> HttpError:
    """The error for a non-2xx answer: status, reason, body, Retry-After, URL (no query)."""
    return HttpError(response.status_code, status_text(response), body,
                     retry_after=retry_after(response), url=safe_url(response.request.url))


def is_success(response: httpx.Response) -> bool:
    return 200 <= response.status_code < 300

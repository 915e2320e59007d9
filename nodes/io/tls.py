"""The HTTP client of http and ai nodes, with one TLS context per process (per CA setting)."""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

_TLS_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def tls_context() -> ssl.SSLContext:
    """Building one loads the CA bundle, 0.1-0.3 s during which a run starting beside others
    blocked their event loop: every run of the process shares it."""
    import httpx

    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if key not in _TLS_CONTEXTS:
        _TLS_CONTEXTS[key] = httpx.create_ssl_context()
    return _TLS_CONTEXTS[key]


def default_client() -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(follow_redirects=True, verify=tls_context())

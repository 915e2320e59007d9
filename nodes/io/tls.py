"""One TLS context per process (per CA setting) for the HTTP client of http and ai nodes."""

from __future__ import annotations

import os
import ssl

_TLS_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def tls_context() -> ssl.SSLContext:
    """Building one loads the CA bundle, 0.1-0.3 s during which a run starting beside others
    blocked their event loop: every run of the process shares it."""
    import httpx

    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if key not in _TLS_CONTEXTS:
        _TLS_CONTEXTS[key] = httpx.create_ssl_context()
    return _TLS_CONTEXTS[key]

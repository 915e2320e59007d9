"""Data-node I/O: the file, http and ai runtimes (docs/language.md#data-flow-runtimes).

The engine calls these with an already-resolved config and runs them as asyncio tasks:
timeouts and cancellation are task cancellation, so nothing here blocks the event loop
(file work goes through `asyncio.to_thread`, HTTP through `httpx.AsyncClient`) and
`CancelledError` is never swallowed. Retrying is the engine's job; the errors raised here
only say whether a retry could help (`NodeError.retryable`).

Modules: config_values (reading config entries), paths (working-directory sandbox),
atomic (the one atomic file writer), file_formats + files (file source/sink), http_request
+ http_response + extract + http (http source/sink), schema_dsl + ai_settings + ai_protocol + ai
(ai transform).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def _real_httpx_cli(*args: Any, **kwargs: Any) -> Any:
    del sys.modules["httpx._main"]
    return importlib.import_module("httpx._main").main(*args, **kwargs)


def _without_httpx_cli() -> None:
    """httpx's package imports its command line (click, rich and pygments: about 60 ms, more
    than the rest of a small run) whenever they are installed, and Prefect installs them.
    Until httpx imports it lazily (encode/httpx#3547), a stand-in is registered before httpx
    is first imported; its `main` loads the real one, so `httpx.main` still works."""
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        stand_in = types.ModuleType("httpx._main")
        stand_in.main = _real_httpx_cli  # type: ignore[attr-defined]
        sys.modules["httpx._main"] = stand_in


_without_httpx_cli()

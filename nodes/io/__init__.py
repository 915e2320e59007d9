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

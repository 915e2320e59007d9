"""Task results kept by Prefect: persisted so a retried flow run reuses what succeeded, and
redacted on the way to storage so no secret value is ever written there."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from prefect.serializers import JSONSerializer, prefect_json_object_decoder, prefect_json_object_encoder
from pydantic import Field, PrivateAttr

from flowscript.runtime.persistence import file_safe
from flowscript.runtime.secrets import Redactor


class RedactedJSONSerializer(JSONSerializer):
    """JSON with every secret value replaced by `***` (the redactor lives only in memory).
    Prefect's JSON serializer as written, with its encoder and decoder bound once: it looks
    them up by name on every call, and the name of a function goes through a failed module
    import each time (the import lock, path lookups): 21 ms of a 50-node persisted chain's
    flow run under cProfile (docs/benchmarks.md)."""

    type: str = Field(default="flowscript-redacted-json", frozen=True)
    _redactor: Redactor | None = PrivateAttr(default=None)

    @classmethod
    def with_secrets(cls, secrets: list[str]) -> RedactedJSONSerializer:
        serializer = cls()
        serializer._redactor = Redactor(secrets)
        return serializer

    def dumps(self, obj: Any) -> bytes:
        value = self._redactor.value(obj) if self._redactor else obj
        return json.dumps(value, default=prefect_json_object_encoder).encode()

    def loads(self, blob: bytes) -> Any:
        return json.loads(blob.decode(), object_hook=prefect_json_object_decoder)


@dataclass(frozen=True, slots=True)
class ResultKey:
    """A task's `cache_key_fn` for one run: a plain value, so the task pickles to a Dask worker."""

    workflow_id: str
    run_id: str

    def __call__(self, _context: Any, parameters: dict[str, Any]) -> str:
        return result_key(self.workflow_id, self.run_id, parameters["key"])


def result_key(workflow_id: str, run_id: str, node_key: str) -> str:
    """One cache entry per node execution of one run: a retry of the same flow run finds it,
    another run never does. A plain file name whatever the names hold (`/`, `..`), and no
    folders: local storage resolves every folder of a result's path on each read and write."""
    digest = hashlib.sha256(json.dumps([workflow_id, run_id, node_key]).encode()).hexdigest()[:32]
    return f"flowscript-{file_safe(workflow_id)[:40]}-{digest}"

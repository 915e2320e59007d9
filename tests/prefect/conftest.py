"""The Prefect backend's tests run against a real Prefect API: the session fixture
`prefect_api` (tests/conftest.py, shared with tests/parity) starts Prefect's own test
harness once; prefect_support.py holds the helpers, re-exported here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect_support import PrefectApi, PrefectOutcome, run_on_prefect

__all__ = ["PrefectApi", "PrefectOutcome", "run_on_prefect"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
async def client(prefect_api: PrefectApi) -> Any:
    from prefect.client.orchestration import get_client

    async with get_client() as api_client:
        yield api_client


@pytest.fixture
def run_prefect(prefect_api: PrefectApi):
    return run_on_prefect

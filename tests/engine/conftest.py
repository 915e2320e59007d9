"""Running workflows with the local backend inside a test (tests/local_runs.py)."""

from __future__ import annotations

import pytest
from local_runs import run_local


@pytest.fixture
def run():
    return run_local

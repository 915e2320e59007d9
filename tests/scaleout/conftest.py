"""The scale-out tests' fixtures: one external Dask cluster for the session, its workers
told where the examples' fake API answers the AI endpoint (tests/examples/example_world.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_support import Cluster, external_cluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))  # example_world
from example_world import DEFAULT_BASE


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with external_cluster(tmp_path_factory.mktemp("dask-cluster"),
                          {"FLOWSCRIPT_AI_BASE_URL": f"{DEFAULT_BASE}/v1"}) as cluster:
        yield cluster

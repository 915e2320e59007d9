"""prefect-dask's task runner, with the workers of a temporary LocalCluster told the flow run's
Prefect API. Imported only for `--task-runner dask` (it imports Dask)."""

from __future__ import annotations

from typing import Any

from prefect_dask import DaskTaskRunner


class FlowDaskTaskRunner(DaskTaskRunner):
    """A worker process reports its task runs' logs and events under its own settings: with no
    API to name (the flow's may be a temporary one it started) it would start an API of its own."""

    def __enter__(self) -> Any:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        if url and not self.address:
            env = {**self.cluster_kwargs.get("env", {}), "PREFECT_API_URL": url}
            self.cluster_kwargs = {**self.cluster_kwargs, "env": env}
        return super().__enter__()

"""The Prefect backend: the engine of `runtime/` with each node execution as a Prefect task run.

`runtime/` never imports this package; it imports `runtime/`. Importing it imports Prefect,
so the command line imports it only for runs that go through Prefect.
"""

import os

# Before Prefect is imported: an embedded (ephemeral) Prefect server must not try to reach
# the internet for telemetry. A user's own setting wins.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

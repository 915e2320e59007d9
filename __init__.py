"""FlowScript: .flow.md workflows run on Prefect, or locally without a server."""

__version__ = "0.1.0"

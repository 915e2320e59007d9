"""Node runtimes: one module per family, looked up by kind in `registry`."""

"""Node kinds."""

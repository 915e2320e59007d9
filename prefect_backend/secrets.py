"""Secret values for a Prefect run: the environment of the process that runs the flow
first, then Prefect Secret blocks. A declared secret `API_TOKEN` is read from the block
named `api-token` (lowercase, `_` -> `-`: Prefect block names allow only a-z, 0-9, -)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prefect.blocks.system import Secret


def block_name(secret: str) -> str:
    return secret.lower().replace("_", "-")


async def from_secret_blocks(names: Iterable[str], env: Mapping[str, str]) -> dict[str, str]:
    """Values of the declared secrets the environment does not give, from Secret blocks that exist."""
    found: dict[str, str] = {}
    for name in names:
        if env.get(name):
            continue
        try:
            block = await Secret.aload(block_name(name))
        except ValueError:  # no such block
            continue
        value = block.get()  # type: ignore[attr-defined]  # Secret.aload is typed as returning its base class
        if isinstance(value, str) and value:
            found[name] = value
    return found

"""Commands that put workflows on a Prefect server: deploy and serve."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from flowscript.cli.app import app, reports_errors

FOLDER = typer.Argument(Path("flows/examples"), help="the folder of .flow.md workflows")


@app.command()
@reports_errors
def deploy(
    folder: Path = FOLDER,
    work_pool: str | None = typer.Option(None, "--work-pool", help="Attach the deployments to this work pool."),
) -> None:
    """Create or update one Prefect deployment per workflow in FOLDER (schedules from their triggers)."""
    from flowscript.deployments.workflow_deployments import deploy as deploy_folder

    ids = asyncio.run(deploy_folder(folder, work_pool=work_pool))
    for name, deployment_id in ids.items():
        typer.echo(f"{name}/{name}: deployment {deployment_id}")
    where = f"work pool {work_pool}" if work_pool else "no work pool: start them with `flowscript serve`"
    typer.echo(f"{len(ids)} deployment(s) up to date ({where})")


@app.command()
@reports_errors
def serve(
    folder: Path = FOLDER,
    limit: int | None = typer.Option(None, "--limit", min=1, help="Flow runs at once (default: no limit)."),
) -> None:
    """Serve every workflow in FOLDER from this process: schedules and runs started from the UI. Ctrl-C stops."""
    from flowscript.deployments.workflow_deployments import serve as serve_folder

    typer.echo(f"serving the workflows of {folder} (Ctrl-C to stop)")
    asyncio.run(serve_folder(folder, limit=limit))

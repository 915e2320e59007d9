"""Commands that put workflows on a Prefect server: deploy and serve."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flowscript.cli.app import echo, positive_int


def add_commands(commands: Any) -> None:
    deploy_cmd = commands.add_parser("deploy", help="one Prefect deployment per workflow of a folder",
                                     description="Create or update one Prefect deployment per workflow in FOLDER "
                                                 "(schedules and triggers from their frontmatter).")
    deploy_cmd.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER",
                            help="the folder of .flow.md workflows (default: this one)")
    deploy_cmd.add_argument("-p", "--pool", "--work-pool", dest="pool", metavar="NAME",
                            help="the work pool whose workers run the deployments")
    deploy_cmd.set_defaults(command=deploy)

    serve_cmd = commands.add_parser("serve", help="serve the workflows of a folder from this process",
                                    description="Serve every workflow in FOLDER from this process: schedules and "
                                                "runs started from the UI. Ctrl-C stops.")
    serve_cmd.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER",
                           help="the folder of .flow.md workflows (default: this one)")
    serve_cmd.add_argument("--limit", type=positive_int, metavar="N", help="flow runs at once (default: no limit)")
    serve_cmd.set_defaults(command=serve)


def deploy(args: argparse.Namespace) -> int:
    import asyncio

    from flowscript.deployments.workflow_deployments import deploy as deploy_folder

    ids = asyncio.run(deploy_folder(args.folder, work_pool=args.pool))
    for name, deployment_id in ids.items():
        echo(f"{name}/{name}: deployment {deployment_id}")
    where = f"work pool {args.pool}" if args.pool else "no work pool: start them with `flowscript serve`"
    echo(f"{len(ids)} deployment(s) up to date ({where})")
    return 0


def serve(args: argparse.Namespace) -> int:
    import asyncio

    from flowscript.deployments.workflow_deployments import serve as serve_folder

    echo(f"serving the workflows of {args.folder} (Ctrl-C to stop)")
    asyncio.run(serve_folder(args.folder, limit=args.limit))
    return 0

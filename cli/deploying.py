"""Commands that put workflows on a Prefect server: deploy and serve (docs/deploying.md).
Prefect is imported by the command that runs, not by this module."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flowscript.cli.app import add_task_runner_options, echo, positive_int, task_runner_of


def add_commands(commands: Any) -> None:
    deploy_cmd = commands.add_parser(
        "deploy", help="one Prefect deployment per workflow of a folder",
        description="Create or update one Prefect deployment per workflow in FOLDER (schedules and triggers from "
                    "their frontmatter). Without --source the workflows and the data files they read travel inside "
                    "the deployment: any worker of the pool can run them.")
    _folder(deploy_cmd)
    deploy_cmd.add_argument("-p", "--pool", "--work-pool", dest="pool", metavar="NAME",
                            help="the work pool whose workers run the deployments")
    deploy_cmd.add_argument("-jv", "--job-variable", dest="job_variables", action="append", default=[],
                            metavar="KEY=VALUE", help="a job variable of the pool (repeatable; JSON values; "
                                                      "env.NAME=VALUE sets one environment variable)")
    deploy_cmd.add_argument("--source", metavar="GIT_URL", help="runs clone this git repository instead of "
                                                                "carrying the files")
    deploy_cmd.add_argument("--branch", metavar="BRANCH", help="with --source: the branch to clone")
    deploy_cmd.add_argument("--subfolder", metavar="DIR", help="with --source: where FOLDER is in the repository")
    deploy_cmd.add_argument("--result-storage", metavar="BLOCK",
                            help="a storage block (TYPE/NAME) every worker reaches: node results outlive the worker")
    deploy_cmd.add_argument("--prefect-yaml", action="store_true",
                            help="write FOLDER/prefect.yaml (for `prefect deploy --all`) instead of deploying")
    _shared(deploy_cmd)
    deploy_cmd.set_defaults(command=deploy)

    serve_cmd = commands.add_parser("serve", help="serve the workflows of a folder from this process",
                                    description="Serve every workflow in FOLDER from this process: schedules and "
                                                "runs started from the UI. Ctrl-C stops.")
    _folder(serve_cmd)
    serve_cmd.add_argument("--limit", type=positive_int, metavar="N", help="flow runs at once (default: no limit)")
    _shared(serve_cmd)
    serve_cmd.set_defaults(command=serve)


def _folder(command: argparse.ArgumentParser) -> None:
    command.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER",
                         help="the folder of .flow.md workflows (default: this one)")


def _shared(command: argparse.ArgumentParser) -> None:
    """The options deploy and serve share: Prefect's usual deployment settings."""
    command.add_argument("-t", "--tag", dest="tags", action="append", default=[], metavar="TAG",
                         help="a tag of every deployment (repeatable)")
    command.add_argument("--concurrency-limit", type=positive_int, metavar="N",
                         help="flow runs of one deployment at once")
    command.add_argument("--param", dest="params", action="append", default=[], metavar="KEY=VALUE",
                         help="a config default of the deployments (repeatable; checked against the field's type)")
    add_task_runner_options(command, "the runs' node executions")


def _options(args: argparse.Namespace) -> Any:
    from flowscript.deployments import DeployOptions, GitSource, job_variables_from, params_from
    from flowscript.errors import ValidationError

    source, branch, subfolder = (getattr(args, name, None) for name in ("source", "branch", "subfolder"))
    if (branch or subfolder) and not source:
        raise ValidationError(f"{'--branch' if branch else '--subfolder'} works only with --source",
                              code="VALID_INVALID_FIELD_TYPE", hint="add --source GIT_URL")
    return DeployOptions(
        pool=getattr(args, "pool", None),
        job_variables=job_variables_from(getattr(args, "job_variables", [])),
        tags=list(args.tags),
        concurrency_limit=args.concurrency_limit,
        params=params_from(args.params),
        source=GitSource(source, branch, subfolder) if source else None,
        result_storage=getattr(args, "result_storage", None),
        task_runner=task_runner_of(args),
    )


def deploy(args: argparse.Namespace) -> int:
    import asyncio

    from flowscript.deployments import deploy as deploy_folder
    from flowscript.deployments import prefect_yaml
    from flowscript.nodes.io.atomic import atomic_write_bytes

    options = _options(args)
    if args.prefect_yaml:
        target = args.folder / "prefect.yaml"
        atomic_write_bytes(target, prefect_yaml(args.folder, options).encode("utf-8"))
        echo(f"wrote {target}: `prefect --no-prompt deploy --all` in {args.folder} creates the deployments")
        return 0
    deployed = asyncio.run(deploy_folder(args.folder, options))
    for item in deployed:
        echo(f"{item.name}/{item.name}: deployment {item.id}")
    where = f"work pool {options.pool}" if options.pool else "no work pool: start them with `flowscript serve`"
    echo(f"{len(deployed)} deployment(s) up to date ({where})")
    return 0


def serve(args: argparse.Namespace) -> int:
    import asyncio

    from flowscript.deployments import serve as serve_folder

    options = _options(args)
    echo(f"serving the workflows of {args.folder} (Ctrl-C to stop)")
    asyncio.run(serve_folder(args.folder, options, args.limit))
    return 0

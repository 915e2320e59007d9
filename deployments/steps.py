"""Pull steps that give each flow run a folder of its own on the worker
(docs/deploying.md#where-a-run-works), and what a deployment carries.

A worker needs only the package: these steps are named in a deployment's pull steps as
`flowscript.deployments.steps.<function>` and Prefect runs them in the flow run's process,
before it loads the flow. A run works in

    $FLOWSCRIPT_HOME/runs/<workflow>/<flow-run-id>/      (FLOWSCRIPT_HOME: ~/.flowscript)

which holds the workflow file and the data files it reads; its file sinks write there,
its state files go to `.flowscript-state/` there, its execution log into the workflow file
there. The files come either from the deployment itself (`unpack_workflow`: a gzip'd tar,
base64-encoded, since Prefect renders pull-step inputs as templates) or from the folder
Prefect's `git_clone` (and `set_working_directory`) left the process in (`copy_workflow`).
A rerun of the same flow run (a retry, a resumed suspension) on the same machine finds its
folder as the run left it and copies nothing again.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import shutil
import tarfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from flowscript.compiler.data_files import read_paths
from flowscript.compiler.parser import parse_workflow_file
from flowscript.errors import FlowScriptError
from flowscript.flows.workflow_flows import WORKFLOWS_DIR_ENV

HOME_ENV = "FLOWSCRIPT_HOME"
FLOW_RUN_ENV = "PREFECT__FLOW_RUN_ID"  # set by Prefect in a flow run's process
MARKER = ".flowscript-run"  # written once the run's files are in place
MAX_INLINE_BYTES = 1_000_000  # a deployment's carried files, packed (Prefect's events refuse ~1.5 MB)


class DeployTooLarge(FlowScriptError):
    default_code = "DEPLOY_TOO_LARGE"


# ---------------------------------------------------------------- where a run works
def flowscript_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(HOME_ENV) or Path.home() / ".flowscript").expanduser()


def run_folder(workflow: str, flow_run_id: str, env: Mapping[str, str] | None = None) -> Path:
    """`$FLOWSCRIPT_HOME/runs/<workflow>/<flow-run-id>`."""
    return flowscript_home(env) / "runs" / _safe(workflow) / _safe(flow_run_id)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    return cleaned or "_"


# ---------------------------------------------------------------- what travels
def carried_files(path: Path) -> list[str]:
    """The workflow file and the data files it reads, relative to its folder: the literal
    paths of its file sources (those that exist), and for a templated path every file under
    the literal folder before its first `{{`. Hidden files and folders and other workflows
    are left out."""
    folder = path.parent
    files, folders = read_paths(parse_workflow_file(path))
    found = {path.name}
    for name in files:
        if (folder / name).is_file():
            found.add(name)
    for name in folders:
        base = folder / name
        if base.is_dir():
            for item in base.rglob("*"):
                relative = item.relative_to(folder)
                if item.is_file() and not any(p.startswith(".") for p in relative.parts) \
                        and not item.name.endswith(".flow.md"):
                    found.add(relative.as_posix())
    return sorted(found)


def pack_files(folder: Path, names: list[str]) -> str:
    """A gzip'd tar of the files, base64-encoded; the same files give the same text (no
    times, owners or modes in it), so deploying unchanged files changes nothing."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            data = (folder / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(raw.getvalue()).decode("ascii")


def pack_workflow(path: Path, limit: int) -> str:
    """The archive a deployment of this workflow carries; DeployTooLarge above `limit` bytes."""
    names = carried_files(path)
    archive = pack_files(path.parent, names)
    if len(archive) > limit:
        sizes = sorted(((path.parent / n).stat().st_size, n) for n in names)[::-1][:3]
        largest = ", ".join(f"{n} ({size:,} bytes)" for size, n in sizes)
        raise DeployTooLarge(
            f"the files workflow {path.name} carries are {len(archive):,} bytes packed, more than "
            f"{limit:,}: {largest}",
            hint="deploy with --source GIT_URL (Prefect pulls the files when a run starts), or read large data "
                 "from where the workers can reach it (HTTP, a shared path)")
    return archive


# ---------------------------------------------------------------- the pull steps
def unpack_workflow(workflow: str, archive: str) -> dict[str, str]:
    """Pull step: the deployment's files into the run's folder, which becomes the current one."""
    folder = run_folder(workflow, _flow_run_id())
    if not (folder / MARKER).exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(archive)), mode="r:gz") as tar:
            tar.extractall(folder, filter="data")
        (folder / MARKER).write_text(workflow + "\n", encoding="utf-8")
    return _enter(folder)


def pack_step(workflow_file: str, limit: int = MAX_INLINE_BYTES) -> dict[str, str]:
    """Build step of a written prefect.yaml: the archive `unpack_workflow` takes, packed where
    `prefect deploy` runs (so it always carries the files as they are then)."""
    return {"archive": pack_workflow(Path(workflow_file).resolve(), limit)}


def copy_workflow(workflow: str, path: str) -> dict[str, str]:
    """Pull step after Prefect's git_clone (and set_working_directory): the workflow file at
    `path` (relative to the current folder, the clone or its sub-folder) and the data files
    it reads, copied into the run's folder, which becomes the current one."""
    source = Path.cwd() / path
    folder = run_folder(workflow, _flow_run_id())
    if not (folder / MARKER).exists():
        for name in carried_files(source):
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.parent / name, target)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(workflow + "\n", encoding="utf-8")
    return _enter(folder)


def _flow_run_id() -> str:
    return os.environ.get(FLOW_RUN_ENV) or f"no-flow-run-{uuid.uuid4()}"


def _enter(folder: Path) -> dict[str, str]:
    os.environ[WORKFLOWS_DIR_ENV] = str(folder)  # where the entry point finds the workflow (this process)
    os.chdir(folder)
    return {"directory": str(folder)}

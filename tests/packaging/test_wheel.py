"""The package as a user installs it: a wheel (not the editable checkout) in a fresh virtual
environment, run from the repository's root, where the source folders sit beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, tree = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("tree") / "flowscript"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*cache*", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(tree)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("flowscript-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel; its dependencies come from this test run's environment
    (added to its path, so nothing is downloaded), never this checkout."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as archive:  # what pip does for a pure-Python wheel, minus the download
        archive.extractall(purelib)
    return venv / "bin" / "python"


def _run_from_root(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_one_package_with_its_data_and_type_marker(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("flowscript-")}
    assert tops == {"flowscript"}
    for expected in ("flowscript/py.typed", "flowscript/runtime/engine.py", "flowscript/nodes/foreach.py",
                     "flowscript/flows/examples/order-report.flow.md", "flowscript/flows/examples/data/orders.json"):
        assert expected in names, expected
    assert not any(name.startswith(("flowscript/tests/", "flowscript/bench/", "flowscript/docs/")) for name in names)


def test_python_m_flowscript_runs_the_installed_package_from_the_repository_root(installed: Path) -> None:
    where = _run_from_root(installed, "-c", "import flowscript.runtime.engine as e; print(e.__file__)")
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout and not where.stdout.startswith(str(REPO) + "/runtime")
    checked = _run_from_root(installed, "-m", "flowscript", "validate", "flows/examples/order-report.flow.md")
    assert checked.returncode == 0, checked.stderr
    assert "valid (0 error(s)" in checked.stdout


def test_a_local_run_of_the_installed_package_from_a_fresh_folder(installed: Path, tmp_path: Path) -> None:
    shutil.copytree(REPO / "flows" / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(installed), "-m", "flowscript", "run", "--local", "order-report.flow.md", "--no-log"],
                          cwd=tmp_path / "examples", env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "examples" / "out" / "report.txt").read_text().strip()
    where = subprocess.run([str(installed), "-c", "import flowscript; print(flowscript.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(installed.parent.parent)), where  # the wheel's copy, not this checkout

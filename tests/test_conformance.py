"""The shared black-box conformance cases (../shared/conformance), run through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLOWSCRIPT = Path(sys.executable).parent / "flowscript"
CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"


@pytest.mark.timeout(600)
@pytest.mark.skipif(not (CONFORMANCE / "run.py").exists(), reason="the shared conformance suite is not beside this checkout")
def test_conformance_suite_passes_on_the_local_backend():
    result = subprocess.run([sys.executable, str(CONFORMANCE / "run.py"), "--backend", "local",
                             "--flowscript", str(FLOWSCRIPT)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and not last.startswith("0 "), last

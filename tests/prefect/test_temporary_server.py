"""`flowscript run FILE` with no Prefect server configured (the README's first example): the
command says at once what is happening and how to avoid the wait, keeps the temporary server's
output (a telemetry notice, its services' errors) off the terminal, and stops the server only
once it has recorded the run (prefect_backend/temporary_server.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from flowscript.prefect_backend.temporary_server import NOTICE, surely_unconfigured

FLOW = """---
name: first-minute
version: 1.0.0
---
<workflow>
  <transform id="a" type="template"><template>hello</template></transform>
  <transform id="b" type="template" input="a"><template>{{input}}, world</template></transform>
</workflow>
"""


def unconfigured_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(home), "NO_COLOR": "1"}


def test_a_run_without_a_server_says_so_at_once_and_leaves_nothing_on_the_terminal(tmp_path):
    (tmp_path / "first-minute.flow.md").write_text(FLOW)
    home = tmp_path / "prefect-home"
    started = time.time()
    process = subprocess.Popen([sys.executable, "-m", "flowscript", "run", "--format", "json", "first-minute.flow.md"],
                               cwd=tmp_path, env=unconfigured_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    first_line = process.stderr.readline()  # said before the server is up, not after the wait
    said_after = time.time() - started
    process.wait(timeout=180)  # its output is a few lines: the pipes do not fill
    assert process.stdout is not None
    stdout, rest = process.stdout.read(), process.stderr.read()
    assert process.returncode == 0, stdout + first_line + rest
    assert first_line.rstrip("\n") == NOTICE.splitlines()[0] and said_after < 3.0, (first_line, said_after)
    assert (first_line + rest).strip() == NOTICE  # nothing else: no telemetry notice, no server error, no traceback
    summary = json.loads(stdout)
    state = json.loads((tmp_path / summary["stateFile"]).read_text())
    first_node = datetime.fromisoformat(state["nodeResults"]["a"]["startedAt"].replace("Z", "+00:00")).timestamp()
    print(f"time to the first node: {first_node - started:.2f}s")  # the figure docs/prefect.md reports
    log = (home / "temporary-server.log").read_text()  # the server's output went here
    assert "Traceback" not in log and "Error flushing" not in log, log


def test_the_early_start_is_only_a_guess_when_nothing_names_an_api(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    assert surely_unconfigured({"PREFECT_HOME": str(home)})  # a new user: no profile at all
    assert not surely_unconfigured({"PREFECT_HOME": str(home), "PREFECT_API_URL": "http://127.0.0.1:4200/api"})
    home.mkdir()
    (home / "profiles.toml").write_text('active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://h:4200/api"\n'
                                        '[profiles.ephemeral]\n')
    assert not surely_unconfigured({"PREFECT_HOME": str(home)})
    assert surely_unconfigured({"PREFECT_HOME": str(home), "PREFECT_PROFILE": "ephemeral"})
    (tmp_path / "prefect.toml").write_text("[api]\n")  # Prefect's own settings decide
    assert not surely_unconfigured({"PREFECT_HOME": str(home), "PREFECT_PROFILE": "ephemeral"})

"""A temporary Prefect API for one `flowscript run` when no server is configured.

Left to itself, Prefect starts a temporary server on the first API call, silently (20-30 s on a
slow machine before anything shows), with its output on the terminal (a telemetry notice; at
the end, errors of its services cut off mid-flush, with SQLAlchemy tracebacks), and stops it at
exit without waiting for what it was still recording. This module starts the same server
itself, so that:

- the user is told at once what is happening and how to avoid the wait (`NOTICE`);
- it starts as early as possible: `start_early()` needs no Prefect import, so a caller that
  calls it first (the command line) overlaps the server's start (about 3.5 s, most of it
  importing Prefect's server) with its own import of Prefect and its plan;
- its output goes to a log file (`temporary-server.log` in Prefect's home), never the terminal;
- it is stopped only once it has recorded the run (`prefect_backend/launcher.py` waits for the
  flow run's task runs to be recorded), then gracefully.

This module imports no Prefect at load time.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import IO

NOTICE = ("flowscript: no Prefect server is configured (PREFECT_API_URL is not set): starting a temporary "
          "one for this run, which takes a few seconds.\n"
          "  to skip the wait: run `prefect server start` once and set PREFECT_API_URL=http://127.0.0.1:4200/api, "
          "or run with --local")
LOG_NAME = "temporary-server.log"
_SERVER_ENV = {  # what Prefect sets for its own temporary server, plus no telemetry
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
_EARLY: list[TemporaryServer] = []  # the server start_early started, until the run claims it


class TemporaryServer:
    """`uvicorn prefect.server.api.server:create_app` on a free port of 127.0.0.1, as Prefect runs
    its own temporary server, with its output in a log file."""

    def __init__(self, home: Path, env: Mapping[str, str]) -> None:
        self.home = home
        self.log_path = home / LOG_NAME
        self.port = _free_port()
        self._env = {key: value for key, value in env.items() if key != "PREFECT_API_URL"}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> TemporaryServer:
        spec = importlib.util.find_spec("prefect")  # where it is, without importing it (that is what takes time)
        assert spec is not None and spec.submodule_search_locations, "prefect is installed"
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed by stop)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.submodule_search_locations[0]).parent),
             "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "error", "--lifespan", "on"],
            env={**self._env, **_SERVER_ENV}, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # a Ctrl-C of the command reaches the command; it stops the server itself
        atexit.register(self.stop)  # whatever ends the command before the run stops it
        return self

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Returns once the API answers; raises RuntimeError (with the log's end) when it cannot."""
        import httpx

        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2) as client:
            while True:
                if self._process is None or self._process.poll() is not None:
                    raise RuntimeError(f"the temporary Prefect server exited: {self._tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the temporary Prefect server did not answer in {timeout_s:g}s: {self._tail()}")
                time.sleep(0.05)

    def stop(self, grace_s: float = 15) -> None:
        """Stops it gracefully (its services finish what they hold), killing it after `grace_s`."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip()
        except OSError:
            text = ""
        return (text[-1500:] or "no output") + f" (log: {self.log_path})"


def start_early() -> None:
    """For a command that is about to run a workflow through Prefect, before it imports Prefect:
    when nothing configures an API (no PREFECT_API_URL in the environment or the active profile,
    no prefect.toml or .env here to say otherwise), starts the temporary server now and says so
    on stderr. The run (`claim`) takes it over, or stops it when Prefect's settings name an API
    after all."""
    if not _EARLY and surely_unconfigured(os.environ):
        _EARLY.append(start_announced(prefect_home(os.environ), os.environ))


def start_announced(home: Path, env: Mapping[str, str]) -> TemporaryServer:
    """Says at once what is happening (and how to avoid the wait), then starts the server."""
    print(NOTICE, file=sys.stderr, flush=True)
    return TemporaryServer(home, env).start()


def claim() -> TemporaryServer | None:
    """The server `start_early` started, now the run's to use and stop."""
    return _EARLY.pop() if _EARLY else None


def surely_unconfigured(env: Mapping[str, str]) -> bool:
    """Whether, by what can be read without Prefect, no API URL is configured and Prefect may use
    a temporary server. When unsure (a prefect.toml or .env file here), False: the run decides
    with Prefect's own settings."""
    if env.get("PREFECT_API_URL") or env.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "").lower() in ("false", "0"):
        return False
    if Path("prefect.toml").exists() or _mentions(Path(".env"), "PREFECT_") or _mentions(
            Path("pyproject.toml"), "[tool.prefect"):
        return False
    profiles = Path(env.get("PREFECT_PROFILES_PATH") or prefect_home(env) / "profiles.toml")
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    active = env.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    settings = data.get("profiles", {}).get(active, {})
    return not settings.get("PREFECT_API_URL") and str(
        settings.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")).lower() not in ("false", "0")


def _mentions(path: Path, text: str) -> bool:
    try:
        return text in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def prefect_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("PREFECT_HOME") or "~/.prefect").expanduser()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

"""What `flowscript deploy` and `flowscript serve` are told besides the folder: Prefect's
usual deployment settings (docs/deploying.md#the-options).

The command line fills a `DeployOptions` from its flags:

| flag | field |
|---|---|
| `--pool/-p NAME` | `pool` |
| `--job-variable/-jv KEY=VALUE` (repeatable) | `job_variables` (`job_variables_from`) |
| `--tag/-t TAG` (repeatable) | `tags` |
| `--concurrency-limit N` | `concurrency_limit` |
| `--param KEY=VALUE` (repeatable) | `params` (text, as `-c`; `params_from`) |
| `--source GIT_URL [--branch B] [--subfolder DIR]` | `source` |
| `--result-storage BLOCK` | `result_storage` |
| `--task-runner thread\\|dask [--dask-address ADDR]` | `task_runner` |
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flowscript.compiler.run_config import parse_assignments
from flowscript.deployments.steps import MAX_INLINE_BYTES
from flowscript.errors import ValidationError
from flowscript.prefect_backend.task_runners import TaskRunnerChoice


@dataclass(frozen=True)
class GitSource:
    """A git repository Prefect clones when a run starts (its own `git_clone` pull step).
    `url`: any URL git understands (https://..., git@host:..., file:///path/to/repo);
    `subfolder`: where the deployed folder is inside the repository."""

    url: str
    branch: str | None = None
    subfolder: str | None = None

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise ValidationError("--source needs a git URL", code="VALID_INVALID_FIELD_TYPE",
                                  hint="e.g. --source https://github.com/acme/flows.git")
        sub = (self.subfolder or "").strip("/")
        if sub.startswith(("~",)) or ".." in sub.split("/"):
            raise ValidationError(f"--subfolder {self.subfolder!r} must be a folder inside the repository",
                                  code="VALID_INVALID_FIELD_TYPE", hint="a relative path without '..'")
        object.__setattr__(self, "subfolder", sub or None)


@dataclass(frozen=True)
class DeployOptions:
    pool: str | None = None  # a work pool: its workers run the flow runs (None: `flowscript serve` runs them)
    job_variables: dict[str, Any] = field(default_factory=dict)  # the pool's job template variables
    tags: list[str] = field(default_factory=list)  # beside `flowscript` and `trigger:<type>`
    concurrency_limit: int | None = None  # flow runs of one deployment at once
    params: dict[str, str] = field(default_factory=dict)  # config defaults, as text, checked per field type
    source: GitSource | None = None  # None: the files travel inside the deployment
    result_storage: str | None = None  # a storage block's slug, e.g. local-file-system/shared
    task_runner: TaskRunnerChoice = field(default_factory=TaskRunnerChoice)
    max_inline_bytes: int = MAX_INLINE_BYTES

    def __post_init__(self) -> None:
        if self.concurrency_limit is not None and self.concurrency_limit < 1:
            raise ValidationError("--concurrency-limit must be at least 1", code="VALID_INVALID_FIELD_TYPE")
        if self.result_storage is not None and "/" not in self.result_storage:
            raise ValidationError(f"--result-storage {self.result_storage!r} is not a block slug",
                                  code="VALID_INVALID_FIELD_TYPE",
                                  hint="a Prefect storage block as TYPE/NAME, e.g. local-file-system/shared")
        env = self.job_variables.get("env", {})
        if not isinstance(env, dict):
            raise ValidationError("the job variable env must be a mapping", code="VALID_INVALID_FIELD_TYPE",
                                  hint="-jv env.NAME=VALUE, or -jv 'env={\"NAME\": \"VALUE\"}'")

    def env(self) -> dict[str, str]:
        """What the deployment's runs find in their environment: the task runner and result storage."""
        from flowscript.prefect_backend.flow_builder import RESULT_STORAGE_ENV

        found = dict(self.task_runner.env())
        if self.result_storage:
            found[RESULT_STORAGE_ENV] = self.result_storage
        return found

    def pool_job_variables(self) -> dict[str, Any]:
        """The deployment's job variables: the given ones, with env holding `env()` too."""
        variables = {key: value for key, value in self.job_variables.items() if key != "env"}
        env = {**self.job_variables.get("env", {}), **self.env()}
        if env:
            variables["env"] = env
        return variables


def job_variables_from(pairs: Iterable[str]) -> dict[str, Any]:
    """`-jv KEY=VALUE` flags as job variables, as Prefect reads them: a VALUE that is JSON is
    that JSON value, else text; a dotted KEY sets a nested one (`env.TZ=UTC` -> {"env": {"TZ": "UTC"}})."""
    variables: dict[str, Any] = {}
    for key, text in parse_assignments(pairs).items():
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        *parents, last = key.split(".")
        target = variables
        for parent in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise ValidationError(f"job variable {parent!r} is not a mapping: cannot set {key}",
                                      code="VALID_INVALID_FIELD_TYPE")
            target = nested
        if isinstance(value, dict) and isinstance(target.get(last), dict):
            target[last] = {**target[last], **value}
        else:
            target[last] = value
    return variables


def params_from(pairs: Iterable[str]) -> dict[str, str]:
    """`--param KEY=VALUE` flags: text, read per field type as `-c` values are."""
    return parse_assignments(pairs)

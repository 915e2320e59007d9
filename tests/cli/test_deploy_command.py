"""`flowscript deploy` and `serve` turn their flags into the deployments' settings
(docs/deploying.md#the-options); what the settings do on a server is tests/deploy's."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_support import assert_no_traceback, invoke

NIGHTLY = """---
name: nightly
version: 1.0.0
trigger: {type: schedule, config: {cron: "0 2 * * *"}}
config:
  limit: {type: number, default: 3}
---
<workflow>
  <source id="rows" type="file" path="./data/rows.json"/>
  <transform id="note" type="template" input="rows"><template>{{length(input)}} of {{$config.limit}}</template></transform>
</workflow>
"""


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "rows.json").write_text("[1, 2]")
    (tmp_path / "nightly.flow.md").write_text(NIGHTLY)
    return tmp_path


def test_the_flags_reach_the_written_prefect_yaml(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = invoke(["deploy", str(folder), "-p", "fleet", "-jv", "env.TZ=UTC", "-jv", "cpu=2", "-t", "nightly",
                     "-t", "team-a", "--concurrency-limit", "2", "--param", "limit=7", "--result-storage",
                     "local-file-system/shared", "--task-runner", "dask", "--dask-address", "tcp://sched:8786",
                     "--prefect-yaml"])
    assert result.exit_code == 0, result.output
    assert f"wrote {folder / 'prefect.yaml'}" in result.stdout
    [deployment] = yaml.safe_load((folder / "prefect.yaml").read_text())["deployments"]
    assert deployment["work_pool"]["name"] == "fleet"
    variables = deployment["work_pool"]["job_variables"]
    assert variables["cpu"] == 2
    assert variables["env"]["TZ"] == "UTC"
    assert variables["env"]["FLOWSCRIPT_RESULT_STORAGE"] == "local-file-system/shared"
    assert variables["env"]["FLOWSCRIPT_TASK_RUNNER"] == "dask"
    assert variables["env"]["FLOWSCRIPT_DASK_ADDRESS"] == "tcp://sched:8786"
    assert {"nightly", "team-a"} <= set(deployment["tags"])
    assert deployment["concurrency_limit"] == 2
    assert deployment["parameters"]["limit"] == 7  # read as the field's type
    assert [s["cron"] for s in deployment["schedules"]] == ["0 2 * * *"]


def test_a_param_of_the_wrong_type_is_refused_with_its_field(tmp_path: Path) -> None:
    result = invoke(["deploy", str(_folder(tmp_path)), "-p", "fleet", "--param", "limit=many", "--prefect-yaml"])
    assert result.exit_code == 2, result.output
    assert_no_traceback(result.output)
    assert "limit" in result.stderr and not (tmp_path / "prefect.yaml").exists()


def test_branch_and_subfolder_need_a_source(tmp_path: Path) -> None:
    for flag in ("--branch", "--subfolder"):
        result = invoke(["deploy", str(_folder(tmp_path)), flag, "x"])
        assert result.exit_code == 2, result.output
        assert f"{flag} works only with --source" in result.stderr


def test_a_prefect_yaml_needs_a_pool(tmp_path: Path) -> None:
    result = invoke(["deploy", str(_folder(tmp_path)), "--prefect-yaml"])
    assert result.exit_code == 2 and "--pool" in result.stderr, result.output


def test_serve_takes_the_shared_flags_but_not_a_pool() -> None:
    usage = invoke(["serve", "--help"]).stdout
    for flag in ("--tag", "--concurrency-limit", "--param", "--task-runner", "--dask-address", "--limit"):
        assert flag in usage
    assert invoke(["serve", "--pool", "fleet"]).exit_code == 2

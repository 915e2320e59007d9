"""What a deployment is told and what it carries, without a server: the options' rules,
`-jv` and `--param` text, the files a workflow takes along and their size bound, the pull
steps, the run folder (docs/deploying.md)."""

from __future__ import annotations

import asyncio
import base64
import io
import tarfile
from pathlib import Path

import pytest

from flowscript.deployments import (
    DeployOptions,
    DeployTooLarge,
    GitSource,
    job_variables_from,
    params_from,
    prefect_yaml,
    run_folder,
    workflow_deployments,
)
from flowscript.deployments.deploying import pull_steps
from flowscript.deployments.steps import carried_files, pack_workflow
from flowscript.errors import FlowScriptError, MultipleErrors, ValidationError
from flowscript.prefect_backend.task_runners import TaskRunnerChoice

READS = """---
name: reads
version: 1.0.0
config:
  day: {type: string, default: mon}
  limit: {type: number, default: 3}
  strict: {type: boolean, default: false}
---

# reads

<workflow>
  <source id="fixed" type="file" path="./data/fixed.json"/>
  <source id="missing" type="file" path="data/not-yet.json"/>
  <foreach id="each" collection="[1]">
    <source id="daily" type="file" path="./daily/{{$config.day}}.json"/>
  </foreach>
  <sink id="save" type="file" input="fixed" path="./out/copy.json"/>
</workflow>
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    for name, text in {"reads.flow.md": READS, "data/fixed.json": "[1]", "data/other.json": "[2]",
                       "daily/mon.json": "[3]", "daily/tue/deep.json": "[4]", "daily/.hidden": "x",
                       "out/old.json": "[]", "notes.txt": "n"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_workflow_carries_its_file_and_the_data_files_it_reads(tmp_path):
    folder = _folder(tmp_path)
    assert carried_files(folder / "reads.flow.md") == ["daily/mon.json", "daily/tue/deep.json", "data/fixed.json",
                                                       "reads.flow.md"]


def test_the_archive_is_the_same_for_the_same_files_and_unpacks_to_them(tmp_path):
    folder = _folder(tmp_path)
    first = pack_workflow(folder / "reads.flow.md", 1_000_000)
    (folder / "data" / "fixed.json").touch()  # a newer time, the same bytes
    assert pack_workflow(folder / "reads.flow.md", 1_000_000) == first
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(first)), mode="r:gz") as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar.getmembers()}["data/fixed.json"] == b"[1]"


def test_too_much_to_carry_is_a_clear_error_pointing_at_source(tmp_path):
    folder = _folder(tmp_path)
    (folder / "daily" / "big.json").write_bytes(__import__("os").urandom(50_000))
    with pytest.raises(DeployTooLarge) as info:
        workflow_deployments(folder, DeployOptions(pool="p", max_inline_bytes=20_000))
    assert info.value.code == "DEPLOY_TOO_LARGE" and "daily/big.json" in info.value.message
    assert "--source" in (info.value.hint or "")


def test_job_variables_and_params_from_text():
    assert job_variables_from(["env.TZ=UTC", "env.N=3", "working_dir=/srv/runs", 'env={"A": "b"}',
                               "stream_output=false"]) == {
        "env": {"TZ": "UTC", "N": 3, "A": "b"}, "working_dir": "/srv/runs", "stream_output": False}
    assert params_from(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ValidationError):
        job_variables_from(["nothing"])


def test_params_are_typed_per_field_and_checked(tmp_path):
    folder = _folder(tmp_path)
    [item] = workflow_deployments(folder, DeployOptions(params={"day": "tue", "limit": "7", "strict": "true"}))
    assert item.deployment.parameters == {"day": "tue", "limit": 7, "strict": True}
    with pytest.raises(MultipleErrors) as info:
        workflow_deployments(folder, DeployOptions(params={"limit": "many", "nope": "1"}))
    codes = sorted(e.code for e in info.value.errors)
    assert codes == ["VALID_INVALID_FIELD_TYPE", "VALID_TYPE_MISMATCH"]


def test_what_travels_in_job_variables_needs_a_pool(tmp_path):
    folder = _folder(tmp_path)
    for options in (DeployOptions(job_variables={"env": {"A": "1"}}), DeployOptions(result_storage="s3-bucket/x"),
                    DeployOptions(task_runner=TaskRunnerChoice.of("dask")), DeployOptions(source=GitSource("u"))):
        with pytest.raises(ValidationError, match="goes with --pool"):
            workflow_deployments(folder, options)
    with pytest.raises(ValidationError, match="slug"):
        DeployOptions(result_storage="shared")
    with pytest.raises(ValidationError):
        DeployOptions(concurrency_limit=0)
    with pytest.raises(ValidationError):
        GitSource("file:///r", subfolder="../up")


def test_pool_deployments_carry_env_not_paths(tmp_path):
    folder = _folder(tmp_path)
    options = DeployOptions(pool="fleet", job_variables={"env": {"TZ": "UTC"}}, tags=["nightly"],
                            concurrency_limit=1, result_storage="local-file-system/shared",
                            task_runner=TaskRunnerChoice.of("dask", "tcp://d:8786"))
    [item] = workflow_deployments(folder, options)
    deployment = item.deployment
    assert deployment.job_variables == {"env": {"TZ": "UTC", "FLOWSCRIPT_TASK_RUNNER": "dask",
                                                "FLOWSCRIPT_DASK_ADDRESS": "tcp://d:8786",
                                                "FLOWSCRIPT_RESULT_STORAGE": "local-file-system/shared"}}
    assert deployment.tags == ["flowscript", "trigger:manual", "nightly"] and deployment.concurrency_limit == 1
    assert deployment.entrypoint == "flowscript.flows.workflow_flows.reads"
    assert str(tmp_path) not in repr(deployment.job_variables) + repr(deployment.storage.to_pull_step())


def test_git_pull_steps_clone_then_enter_the_subfolder(tmp_path):
    folder = _folder(tmp_path)
    steps = pull_steps(folder / "reads.flow.md", folder, "reads",
                       DeployOptions(pool="p", source=GitSource("https://git.example/flows.git", subfolder="wf/")))
    assert steps == [
        {"prefect.deployments.steps.git_clone": {"id": "clone", "repository": "https://git.example/flows.git"}},
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ clone.directory }}/wf"}},
        {"flowscript.deployments.steps.copy_workflow": {"workflow": "reads", "path": "reads.flow.md"}},
    ]


def test_a_webhook_workflow_has_a_trigger_on_its_event(tmp_path):
    (tmp_path / "hook.flow.md").write_text("---\nname: hook\nversion: 1.0\ntrigger: webhook\n---\n\n<workflow>\n"
                                           '<transform id="t" type="template"><template>x</template></transform>\n'
                                           "</workflow>\n")
    [item] = workflow_deployments(tmp_path, DeployOptions())
    [trigger] = item.deployment.triggers
    assert trigger.expect == {"flowscript.workflow.hook"} and trigger.parameters == {"input": "{{ event.payload }}"}


def test_run_folders_and_prefect_yaml_need_no_server(tmp_path):
    assert run_folder("a/b", "123", {"FLOWSCRIPT_HOME": str(tmp_path)}) == tmp_path / "runs" / "a_b" / "123"
    assert run_folder("x", "1", {"HOME": "/h"}).name == "1"
    folder = _folder(tmp_path)
    text = prefect_yaml(folder, DeployOptions(pool="fleet"))
    assert "flowscript.deployments.steps.pack_step" in text and "{{ pack.archive }}" in text
    with pytest.raises(ValidationError, match="work pool"):
        prefect_yaml(folder, DeployOptions())


def test_no_workflows_in_the_folder(tmp_path):
    with pytest.raises(FlowScriptError) as info:
        asyncio.run(__import__("flowscript.deployments", fromlist=["deploy"]).deploy(tmp_path))
    assert info.value.code == "VALID_NO_WORKFLOWS"

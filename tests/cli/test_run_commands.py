"""run and resume through the command line: options, summary, exit codes, state files, the log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx
from cli_support import assert_no_traceback

CONFIGURED = "config:\n  factor: {type: number, default: 2}\n  label: {type: string, default: total}\n"
SECRET = "secrets: [API_TOKEN]\n"


def _doubling_flow(write_flow) -> Path:
    return write_flow('<transform id="calc" type="template"><template>{{$config.label}}={{input.n * $config.factor}}'
                      '</template></transform>\n<sink id="save" type="file" input="calc" path="out/result.txt"/>',
                      extra=CONFIGURED)


def test_run_local_writes_outputs_prints_a_summary_and_the_state_file(cli, write_flow, tmp_path):
    path = _doubling_flow(write_flow)
    result = cli("run", "--local", str(path), "--input", '{"n": 21}', "-c", "label=answer")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "result.txt").read_text() == "answer=42"
    assert result.stdout.startswith("test-flow: completed in ")
    assert "calc" in result.stdout and "success" in result.stdout
    state_file = Path(result.stdout.split("state: ")[1].strip())
    assert state_file.resolve().parent.parent == tmp_path / ".flowscript-state" and state_file.exists()
    state = json.loads(state_file.read_text())
    assert state["status"] == "completed" and state["config"] == {"factor": 2, "label": "answer"}
    assert "## Execution Log" in path.read_text()


def test_config_values_are_typed_json_and_an_unknown_key_names_the_declared_ones(cli, write_flow, tmp_path):
    path = _doubling_flow(write_flow)
    ok = cli("run", "--local", "--no-log", str(path), "--input", '{"n": 2}', "-c", "factor=2.5")
    assert ok.exit_code == 0 and (tmp_path / "out" / "result.txt").read_text() == "total=5"
    wrong_type = cli("run", "--local", str(path), "-c", "factor=lots")
    assert wrong_type.exit_code == 2 and "VALID_TYPE_MISMATCH" in wrong_type.stderr
    unknown = cli("run", "--local", str(path), "-c", "fator=3")
    assert unknown.exit_code == 2 and "factor" in unknown.stderr and "label" in unknown.stderr
    for r in (wrong_type, unknown):
        assert_no_traceback(r.output)


def test_no_log_leaves_the_workflow_file_byte_for_byte(cli, write_flow):
    path = _doubling_flow(write_flow)
    before = path.read_bytes()
    assert cli("run", "--local", "--no-log", str(path), "--input", '{"n": 1}').exit_code == 0
    assert path.read_bytes() == before


def test_dry_run_prints_the_plan_and_runs_nothing(cli, write_flow, tmp_path):
    path = _doubling_flow(write_flow)
    result = cli("run", "--dry-run", str(path))
    assert result.exit_code == 0
    assert "wave 0: calc (transform:template)" in result.stdout and "wave 1: save (sink:file)" in result.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / ".flowscript-state").exists()


def test_json_summary_and_exit_1_on_failure(cli, write_flow):
    path = write_flow('<source id="gone" type="file" path="missing.json"/>'
                      '<transform id="after" type="template" input="gone"><template>x</template></transform>')
    result = cli("run", "--local", "--format", "json", str(path))
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and summary["nodes"]["gone"]["status"] == "failed"
    assert isinstance(summary["durationMs"], int) and isinstance(summary["nodes"]["gone"]["durationMs"], int)
    assert "missing.json" in summary["nodes"]["gone"]["error"]
    assert "after" not in summary["nodes"] or summary["nodes"]["after"]["status"] != "success"
    assert Path(summary["stateFile"]).exists()


def test_a_missing_secret_that_is_used_stops_before_anything_runs(cli, write_flow, tmp_path, monkeypatch):
    monkeypatch.delenv("API_TOKEN", raising=False)
    path = write_flow('<transform id="t" type="template"><template>{{$secrets.API_TOKEN}}</template></transform>'
                      '<sink id="s" type="file" input="t" path="out/t.txt"/>', extra=SECRET)
    result = cli("run", "--local", str(path))
    assert result.exit_code == 2 and "API_TOKEN" in result.stderr and "VALID_UNDEFINED_SECRET_REF" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / ".flowscript-state").exists()


def test_resume_reruns_only_what_did_not_succeed(cli, write_flow, tmp_path):
    path = write_flow('<source id="one" type="http" url="http://127.0.0.1:9/one"/>'
                      '<source id="two" type="http" url="http://127.0.0.1:9/two"><on-error><retry max="0"/></on-error></source>'
                      '<transform id="both" type="template"><template>{{one.output}}+{{two.output}}</template></transform>'
                      '<sink id="save" type="file" input="both" path="out/both.txt"/>')
    with respx.mock:
        one = respx.get("http://127.0.0.1:9/one").mock(return_value=httpx.Response(200, json=1))
        two = respx.get("http://127.0.0.1:9/two").mock(side_effect=[httpx.Response(404), httpx.Response(200, json=2)])
        first = cli("run", "--local", str(path))
        assert first.exit_code == 1 and "HTTP 404" in first.output
        state_file = first.stdout.split("state: ")[1].strip()
        second = cli("resume", state_file)
        assert second.exit_code == 0, second.output
    assert (one.call_count, two.call_count) == (1, 2)
    assert (tmp_path / "out" / "both.txt").read_text() == "1+2"
    assert json.loads(Path(state_file).read_text())["status"] == "completed"
    saved = Path(state_file).read_bytes(), path.read_bytes()
    again = cli("resume", state_file)  # a completed run: nothing to resume, it says so, and that is no error
    assert again.exit_code == 0 and "nothing to resume" in again.stdout, again.output
    assert (Path(state_file).read_bytes(), path.read_bytes()) == saved and (one.call_count, two.call_count) == (1, 2)


def test_resume_refuses_a_changed_workflow_unless_forced(cli, write_flow, tmp_path):
    path = write_flow('<source id="gone" type="file" path="in.json"/>'
                      '<sink id="save" type="file" input="gone" path="out/copy.json"/>')
    first = cli("run", "--local", "--no-log", str(path))
    assert first.exit_code == 1
    state_file = first.stdout.split("state: ")[1].strip()
    path.write_text(path.read_text().replace("<workflow>", "<workflow>\n<!-- edited -->"))
    (tmp_path / "in.json").write_text('{"ok": true}')
    refused = cli("resume", state_file)
    assert refused.exit_code == 2 and "changed" in refused.stderr and "--force" in refused.stderr
    assert not (tmp_path / "out").exists()
    forced = cli("resume", "--force", state_file)
    assert forced.exit_code == 0, forced.output
    assert json.loads((tmp_path / "out" / "copy.json").read_text()) == {"ok": True}


def test_the_summary_never_prints_a_secret_value(cli, write_flow, tmp_path):
    canary = "canary-7f3a9c1e"
    path = write_flow('<source id="leak" type="file" path="data/{{$secrets.API_TOKEN}}.json"/>', extra=SECRET)
    for format in ("text", "json"):
        result = cli("run", "--local", "--format", format, str(path), env={"API_TOKEN": canary})
        assert result.exit_code == 1 and "leak" in result.output
        assert canary not in result.output and "***" in result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not [p for p in written if canary in p.read_text(errors="replace")]

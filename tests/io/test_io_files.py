"""The file source and sink: formats, errors, atomic writes, sandbox (docs/language.md#files)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowscript.errors import FileError, NodeError
from flowscript.expressions import to_json
from flowscript.nodes.io import atomic
from flowscript.nodes.io.files import read_file_source, write_file_sink

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


async def read(tmp_path: Path, name: str, content: str | bytes, **config: Any) -> Any:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        target.write_text(content, encoding="utf-8")
    else:
        target.write_bytes(content)
    return await read_file_source({"path": f"./{name}", **config}, workdir=tmp_path)


async def write(tmp_path: Path, value: Any, path: str = "out/x", **config: Any) -> dict[str, Any]:
    return await write_file_sink(value, {"path": path, **config}, workdir=tmp_path, to_json=to_json)


# ------------------------------------------------------------------------- reading


async def test_auto_format_by_extension(tmp_path: Path) -> None:
    assert await read(tmp_path, "a.json", '{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert await read(tmp_path, "a.yaml", "a: 1\nb: [x, y]\n") == {"a": 1, "b": ["x", "y"]}
    assert await read(tmp_path, "a.YML", "- 1\n- 2\n") == [1, 2]
    assert await read(tmp_path, "a.csv", "id,name\n1,ada\n") == [{"id": "1", "name": "ada"}]
    assert await read(tmp_path, "a.txt", '{"not": "parsed"}') == '{"not": "parsed"}'
    assert await read(tmp_path, "noext", "[1]") == "[1]"


async def test_explicit_format_wins_over_extension(tmp_path: Path) -> None:
    assert await read(tmp_path, "numbers.txt", "[1, 2, 3]", format="json") == [1, 2, 3]
    assert await read(tmp_path, "a.json", "[1]", format="text") == "[1]"
    assert await read(tmp_path, "conf.txt", "k: v", format="YAML") == {"k": "v"}
    assert await read(tmp_path, "t.data", "a;b\n", format="csv") == []


async def test_csv_values_stay_strings_and_short_rows_are_padded(tmp_path: Path) -> None:
    text = 'id,name,note\r\n1,"ada, the first",x\r\n2,bob\r\n\r\n3,"multi\nline",\n'
    assert await read(tmp_path, "p.csv", text) == [
        {"id": "1", "name": "ada, the first", "note": "x"},
        {"id": "2", "name": "bob", "note": ""},
        {"id": "3", "name": "multi\nline", "note": ""},
    ]
    assert await read(tmp_path, "empty.csv", "") == []


async def test_csv_row_longer_than_header_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"rows\.csv: line 3 has 3 fields, the header has 2"):
        await read(tmp_path, "rows.csv", "a,b\n1,2\n1,2,3\n")


async def test_yaml_is_read_safely(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"bad\.yaml: invalid YAML"):
        await read(tmp_path, "bad.yaml", "!!python/object/apply:os.system ['echo hi']\n")


async def test_text_keeps_content_and_drops_bom(tmp_path: Path) -> None:
    assert await read(tmp_path, "g.txt", "\ufeffhello\nworld\n") == "hello\nworld\n"
    assert await read(tmp_path, "b.json", "\ufeff[1]") == [1]


async def test_invalid_utf8_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"bin\.txt: not UTF-8 text \(invalid byte at offset 2\)"):
        await read(tmp_path, "bin.txt", b"ab\xff")


async def test_bad_json_names_file_and_position(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        await read(tmp_path, "data/bad.json", '{\n  "a": 1,\n  oops\n}')
    assert info.value.message.startswith("data/bad.json: invalid JSON at line 3 column 3")
    assert not info.value.retryable


async def test_bad_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"s\.yaml: invalid YAML at line 2 column"):
        await read(tmp_path, "s.yaml", "a: [1, 2\nb: c\n")


async def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileError) as info:
        await read_file_source({"path": "./data/does-not-exist.json"}, workdir=tmp_path)
    assert info.value.message == "file not found: data/does-not-exist.json"
    assert "does-not-exist.json" in info.value.render()
    assert str(tmp_path) in (info.value.hint or "")


async def test_reading_a_folder_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(FileError, match="is a folder"):
        await read_file_source({"path": "d"}, workdir=tmp_path)


async def test_source_path_sandbox(tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text("[1]")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(FileError, match=r"'\.\.'"):
        await read_file_source({"path": "../secret.json"}, workdir=work)
    with pytest.raises(FileError, match="absolute"):
        await read_file_source({"path": str(tmp_path / "secret.json")}, workdir=work)


async def test_unknown_format_and_missing_path_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(NodeError) as info:
        await read(tmp_path, "a.json", "[]", format="xml")
    assert info.value.code == "RUN_INVALID_CONFIG" and "format" in info.value.message
    with pytest.raises(NodeError, match="path"):
        await read_file_source({}, workdir=tmp_path)


# ------------------------------------------------------------------------- writing


async def test_json_default_for_lists_and_objects_pretty_by_default(tmp_path: Path) -> None:
    out = await write(tmp_path, {"a": [1, 3.0], "b": None}, "out/x.json")
    text = (tmp_path / "out" / "x.json").read_text()
    assert text == '{\n  "a": [\n    1,\n    3\n  ],\n  "b": null\n}\n'
    assert out == {"path": "out/x.json", "bytes": len(text.encode())}


@pytest.mark.parametrize("pretty", [False, "false", "0", "False", 0])
async def test_compact_json(tmp_path: Path, pretty: Any) -> None:
    await write(tmp_path, [1, {"a": 2.0}], "c.json", pretty=pretty)
    assert (tmp_path / "c.json").read_text() == '[1,{"a":2}]\n'


@pytest.mark.parametrize("pretty", [True, "true", "1", "yes"])
async def test_pretty_json_values(tmp_path: Path, pretty: Any) -> None:
    await write(tmp_path, [1], "p.json", pretty=pretty)
    assert (tmp_path / "p.json").read_text() == "[\n  1\n]\n"


async def test_bad_pretty_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="pretty: expected true or false"):
        await write(tmp_path, [1], "p.json", pretty="maybe")


async def test_text_default_for_strings_and_scalars(tmp_path: Path) -> None:
    out = await write(tmp_path, "héllo\nworld", "t.txt")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo\nworld"
    assert out == {"path": "t.txt", "bytes": len("héllo\nworld".encode())}
    await write(tmp_path, 3.0, "n.txt")
    assert (tmp_path / "n.txt").read_text() == "3"
    await write(tmp_path, True, "b.txt")
    assert (tmp_path / "b.txt").read_text() == "true"
    await write(tmp_path, None, "z.txt")
    assert (tmp_path / "z.txt").read_text() == "null"


async def test_text_format_for_a_list_is_compact_json(tmp_path: Path) -> None:
    await write(tmp_path, [1, "a"], "l.txt", format="text")
    assert (tmp_path / "l.txt").read_text() == '[1,"a"]'


async def test_json_format_for_a_string(tmp_path: Path) -> None:
    await write(tmp_path, 'say "hi"', "s.json", format="json")
    assert json.loads((tmp_path / "s.json").read_text()) == 'say "hi"'


async def test_yaml_written_and_read_back(tmp_path: Path) -> None:
    value = {"name": "demo", "ratio": 0.5, "n": 3.0, "tags": ["a", "b"], "owner": {"team": "data"}}
    await write(tmp_path, value, "s.yaml", format="yaml")
    text = (tmp_path / "s.yaml").read_text()
    assert text.startswith("name: demo\nratio: 0.5\nn: 3\ntags:\n- a\n- b\n")
    assert await read_file_source({"path": "s.yaml"}, workdir=tmp_path) == {**value, "n": 3}
    assert yaml.safe_load(text)["owner"] == {"team": "data"}


async def test_csv_written_from_objects_and_read_back(tmp_path: Path) -> None:
    rows = [{"id": 1, "name": "ada, x"}, {"id": 2.0, "tags": ["a"], "ok": True, "name": None}]
    await write(tmp_path, rows, "r.csv", format="csv")
    assert (tmp_path / "r.csv").read_text() == 'id,name,tags,ok\n1,"ada, x",,\n2,,"[""a""]",true\n'
    assert await read_file_source({"path": "r.csv"}, workdir=tmp_path) == [
        {"id": "1", "name": "ada, x", "tags": "", "ok": ""},
        {"id": "2", "name": "", "tags": '["a"]', "ok": "true"},
    ]


async def test_csv_from_list_of_lists_and_bad_shapes(tmp_path: Path) -> None:
    await write(tmp_path, [["a", "b"], [1, None]], "l.csv", format="csv")
    assert (tmp_path / "l.csv").read_text() == "a,b\n1,\n"
    with pytest.raises(FileError, match="csv output needs"):
        await write(tmp_path, [1, 2], "bad.csv", format="csv")
    with pytest.raises(FileError, match="csv output needs"):
        await write(tmp_path, "text", "bad.csv", format="csv")
    assert not (tmp_path / "bad.csv").exists()


async def test_unknown_write_format(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="unknown format 'xml'"):
        await write(tmp_path, [1], "x.xml", format="xml")


async def test_parent_folders_created_and_path_output_normalised(tmp_path: Path) -> None:
    out = await write(tmp_path, [1], "./out//nested/deep/items.json")
    assert (tmp_path / "out" / "nested" / "deep" / "items.json").is_file()
    assert out["path"] == "out/nested/deep/items.json"


async def test_atomic_write_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text('{"old": true}')

    def failing_replace(src: str, dst: str) -> None:
        assert Path(src).parent == tmp_path and Path(src).read_text() == "[\n  1\n]\n"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(FileError) as info:
        await write(tmp_path, [1], "out.json")
    assert info.value.message == "cannot write out.json: No space left on device"
    assert target.read_text() == '{"old": true}'
    assert os.listdir(tmp_path) == ["out.json"]


async def test_writing_over_a_folder_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(FileError, match="cannot write d"):
        await write(tmp_path, "x", "d")
    assert os.listdir(tmp_path) == ["d"]


async def test_sink_path_sandbox(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(tmp_path, work / "up")
    for path, why in [("../x.json", "'..'"), ("/tmp/x.json", "absolute"), ("up/x.json", "outside")]:
        with pytest.raises(FileError, match=why):
            await write(work, [1], path)
    assert not (tmp_path / "x.json").exists()


async def test_default_to_json_is_the_js_printer(tmp_path: Path) -> None:
    await write_file_sink({"n": 2.0}, {"path": "d.json", "pretty": False}, workdir=tmp_path)
    assert (tmp_path / "d.json").read_text() == '{"n":2}\n'


async def test_file_io_runs_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = asyncio.to_thread

    async def spy(fn: Any, *args: Any) -> Any:
        calls.append(fn.__name__)
        return await real(fn, *args)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    await write(tmp_path, "x", "a.txt")
    await read_file_source({"path": "a.txt"}, workdir=tmp_path)
    assert calls == ["_write", "_read_bytes"]


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="shared conformance cases not present")
async def test_conformance_01_round_trips(tmp_path: Path) -> None:
    data = CONFORMANCE / "01-file-formats" / "data"
    expected = CONFORMANCE / "01-file-formats" / "expected" / "out"
    settings = await read_file_source({"path": "settings.yaml"}, workdir=data)
    await write(tmp_path, settings, "out/settings.json")
    assert (tmp_path / "out" / "settings.json").read_text() == (expected / "settings.json").read_text()
    items = await read_file_source({"path": "items.json"}, workdir=data)
    await write(tmp_path, items, "out/nested/deep/items.json")
    written = (tmp_path / "out/nested/deep/items.json").read_text()
    assert written == (expected / "nested/deep/items.json").read_text()
    numbers = await read_file_source({"path": "numbers.txt", "format": "json"}, workdir=data)
    assert numbers == [1, 2, 3]
    await write(tmp_path, "HELLO WORLD", "out/greeting.txt")
    assert (tmp_path / "out" / "greeting.txt").read_text() + "\n" == (expected / "greeting.txt").read_text()

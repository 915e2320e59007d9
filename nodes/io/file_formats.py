"""File text <-> values, per format (json, text, csv, yaml), for the file source and sink.

Parse errors become FileError with the file name and the position, so a user can open
the file at the right line. Writing goes through the expression engine's JSON printer
(numbers print as JavaScript does: 3.0 is `3`), also for yaml and csv cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, Protocol

import yaml

from flowscript.errors import FileError
from flowscript.nodes.io.config_values import config_error
from flowscript.syntax.yaml_text import UnsafeYaml, load_yaml_text

READ_FORMATS = ("auto", "json", "text", "csv", "yaml")
WRITE_FORMATS = ("json", "text", "csv", "yaml")
_BY_EXTENSION = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}


class JsonPrinter(Protocol):
    """The engine's JSON printer (runtime.expressions.to_json): compact unless `indent`."""

    def __call__(self, value: Any, *, indent: int | None = None) -> str: ...


def choose_read_format(fmt: str | None, path: str) -> str:
    """The format to read `path` with: the given one, or by extension (`auto`, the default)."""
    name = (fmt or "auto").strip().lower()
    if name == "yml":
        name = "yaml"
    if name not in READ_FORMATS:
        raise config_error("format", f"unknown format {fmt!r}; use one of {', '.join(READ_FORMATS)}")
    if name == "auto":
        return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower(), "text")
    return name


def choose_write_format(fmt: str | None, value: Any) -> str:
    """The format to write `value` with: the given one, else json for lists/objects, else text."""
    if fmt is None or not fmt.strip() or fmt.strip().lower() == "auto":
        return "json" if isinstance(value, (list, tuple, Mapping)) else "text"
    name = fmt.strip().lower()
    if name == "yml":
        name = "yaml"
    if name not in WRITE_FORMATS:
        raise config_error("format", f"unknown format {fmt!r}; use one of {', '.join(WRITE_FORMATS)}")
    return name


# ------------------------------------------------------------------------- reading


def decode_text(data: bytes, shown: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileError(f"{shown}: not UTF-8 text (invalid byte at offset {e.start})") from None


def parse(text: str, fmt: str, shown: str) -> Any:
    """The value held by `text` in format `fmt` (one of json, text, csv, yaml)."""
    if fmt == "json":
        return _parse_json(text, shown)
    if fmt == "yaml":
        return _parse_yaml(text, shown)
    if fmt == "csv":
        return _parse_csv(text, shown)
    return text


def _parse_json(text: str, shown: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FileError(f"{shown}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}",
                        hint="fix the file, or read it with format=\"text\"") from None


def _parse_yaml(text: str, shown: str) -> Any:
    """Safe YAML within the bounds of every YAML the project reads (syntax/yaml_text.py): an
    alias bomb or a recursive alias is refused at once, not expanded into memory and the state."""
    try:
        return load_yaml_text(text)[1]
    except UnsafeYaml as e:
        line = text.count("\n", 0, e.offset) + 1
        column = e.offset - (text.rfind("\n", 0, e.offset) + 1) + 1
        raise FileError(f"{shown}: refused YAML at line {line} column {column}: {e}",
                        hint="aliases may expand to at most 100,000 values and never contain themselves; "
                        "[ ] and { } nest at most 100 deep") from None
    except RecursionError:
        raise FileError(f"{shown}: refused YAML: it is nested too deeply") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FileError(f"{shown}: invalid YAML{where}: {problem}") from None


def _parse_csv(text: str, shown: str) -> list[dict[str, str]]:
    """Rows as objects keyed by the header row; every value stays a string."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return []
        rows: list[dict[str, str]] = []
        for row in reader:
            if not row:
                continue  # blank line
            if len(row) > len(header):
                raise FileError(f"{shown}: line {reader.line_num} has {len(row)} fields, "
                                f"the header has {len(header)}")
            rows.append({key: row[i] if i < len(row) else "" for i, key in enumerate(header)})
        return rows
    except csv.Error as e:
        raise FileError(f"{shown}: invalid CSV at line {reader.line_num}: {e}") from None


# ------------------------------------------------------------------------- writing


def render(value: Any, fmt: str, *, pretty: bool, to_json: JsonPrinter) -> str:
    """The text of a file holding `value` in format `fmt` (one of json, text, csv, yaml)."""
    if fmt == "json":
        return to_json(value, indent=2 if pretty else None) + "\n"
    if fmt == "text":
        return value if isinstance(value, str) else to_json(value)
    plain = json.loads(to_json(value))  # JSON-ready: JS numbers, no tuples or custom types
    if fmt == "yaml":
        return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return _render_csv(plain, to_json)


def _cell(value: Any, to_json: JsonPrinter) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else to_json(value)


def _render_csv(rows: Any, to_json: JsonPrinter) -> str:
    """A list of objects (header = their keys, first seen first) or a list of lists (rows)."""
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        raise FileError("csv output needs a list of objects (or of lists); got "
                        f"{type(rows).__name__}", hint="use format=\"json\" or \"text\"")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows and all(isinstance(r, dict) for r in rows):
        header = list(dict.fromkeys(k for r in rows for k in r))
        writer.writerow(header)
        writer.writerows([_cell(r.get(k), to_json) for k in header] for r in rows)
    elif all(isinstance(r, list) for r in rows):
        writer.writerows([_cell(c, to_json) for c in r] for r in rows)
    else:
        raise FileError("csv output needs every item to be an object (or every item a list)",
                        hint="use format=\"json\" or \"text\"")
    return out.getvalue()

"""Secret values: read from the environment, and kept out of everything we write.

Secrets are supplied at run time (environment, a secret store, explicit overrides) and
never persisted. Every JSON or text we write (state file, journal, markdown log,
progress, error messages) goes through a Redactor first.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from flowscript.compiler.ast import Workflow
from flowscript.compiler.run_config import declared_at
from flowscript.errors import FlowScriptError, MultipleErrors, ValidationError
from flowscript.runtime.state import NodeResult

REDACTED = "***"
# A shorter value would redact ordinary text ("42" is in timestamps, counts, `HTTP 429`): a run
# that holds one is refused (SECRET_TOO_SHORT) rather than writing it.
MIN_SECRET_LENGTH = 3
SECRET_TOO_SHORT = "VALID_SECRET_TOO_SHORT"
_SEPARATORS = re.compile(r"[\\/]+")


def written_forms(secret: str) -> set[str]:
    """The secret, and the shapes it takes inside what we write: URL-encoded (a URL in a
    message), escaped as in JSON or a Python repr (a value quoted in a message), and as a file
    path shows it (separators normalised, nodes/io/paths.display_path)."""
    escaped = secret.replace("\\", "\\\\")  # inside a repr, whichever quotes it chose
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1], escaped,
            escaped.replace("'", "\\'"), _SEPARATORS.sub("/", secret)}


def read_secrets(names: Iterable[str], env: Mapping[str, str], overrides: Mapping[str, str] | None = None,
                 *, required: Iterable[str] = (), workflow: Workflow | None = None) -> dict[str, str]:
    """The declared secrets that have a value. A `required` one without a value is an error, and
    so is a value too short to be kept out of what the run writes; given the workflow, each
    error carries the file:line:column of the secret's declaration in the frontmatter."""
    names = list(names)
    values = {name: env[name] for name in names if env.get(name)}
    values.update({k: v for k, v in (overrides or {}).items() if v})
    wanted = set(required)
    required = [n for n in names if n in wanted] + sorted(wanted - set(names))  # in declaration order
    errors = [ValidationError(f"secret '{name}' is used by the workflow but has no value",
                              code="VALID_UNDEFINED_SECRET_REF", location=declared_at(workflow, f"secrets.{name}"),
                              hint=f"set the environment variable {name} before running")
              for name in required if name not in values]
    errors += [ValidationError(f"secret '{name}' is {len(value)} character(s) long: a value that short cannot be "
                               "kept out of the state file, the log and messages without changing other text in them",
                               code=SECRET_TOO_SHORT, location=declared_at(workflow, f"secrets.{name}"),
                               hint=f"give {name} a value of at least {MIN_SECRET_LENGTH} characters, or pass it as "
                                    "config (-c) if it need not be kept secret")
               for name, value in values.items() if len(value) < MIN_SECRET_LENGTH]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MultipleErrors(list[FlowScriptError](errors))
    return values


class Redactor:
    """Replaces every secret value inside strings (nested in lists/dicts too) with ***, in any
    of its written forms; and, once it has `learn`ed them, the strings of secret-derived values
    (compiler/taint.py): what expressions made of a secret is cut out wherever it shows up
    (an error message naming a derived path, an answer echoing a derived header)."""

    def __init__(self, secret_values: Iterable[str]) -> None:
        self._values: list[str] = []  # while there are few: every form, longest first
        self._known: set[str] = set()
        self._by_prefix: dict[str, list[str]] = {}  # when there are many: the forms by their first characters
        self._learned: set[str] = set()
        self._add(v for v in secret_values if len(v) >= MIN_SECRET_LENGTH)

    def __bool__(self) -> bool:
        return bool(self._known)

    def _add(self, values: Iterable[str]) -> None:
        forms = {form for v in values for form in written_forms(v) if len(form) >= MIN_SECRET_LENGTH}
        new = forms - self._known
        if not new:
            return
        self._known |= new
        if len(self._known) <= _FEW:  # longest first, so a secret that contains another is replaced whole
            self._values = sorted(self._known, key=len, reverse=True)
            return
        if not self._by_prefix:
            new = set(self._known)
        touched = set()
        for form in new:
            prefix = form[:MIN_SECRET_LENGTH]
            self._by_prefix.setdefault(prefix, []).append(form)
            touched.add(prefix)
        for prefix in touched:  # each bucket longest first
            self._by_prefix[prefix].sort(key=len, reverse=True)

    def learn(self, value: Any) -> None:
        """Redacts from now on every string (of at least 3 characters) held in `value`: an
        output computed from a secret."""
        fresh = [s for s in _strings(value) if len(s) >= MIN_SECRET_LENGTH and s not in self._learned]
        if fresh:
            self._learned.update(fresh)
            self._add(fresh)

    def text(self, value: str) -> str:
        if not self._by_prefix:
            for secret in self._values:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        return self._scan(value)

    def _scan(self, value: str) -> str:
        """Many forms (derived values learned): one pass over the text, looking the forms that
        start at each position up by their first characters (longest first)."""
        table, width = self._by_prefix, MIN_SECRET_LENGTH
        out: list[str] = []
        i = last = 0
        end = len(value) - width + 1
        while i < end:
            candidates = table.get(value[i:i + width])
            if candidates is not None:
                found = next((c for c in candidates if value.startswith(c, i)), None)
                if found is not None:
                    out.append(value[last:i])
                    out.append(REDACTED)
                    i = last = i + len(found)
                    continue
            i += 1
        if not out:
            return value
        out.append(value[last:])
        return "".join(out)

    def error(self, error: BaseException) -> BaseException:
        """Cuts secret values out of an exception in place (message, args, fields such as an
        HTTP error's body and URL; chained causes too), keeping its type: for a Prefect task run,
        whose exception Prefect logs, stores as the state message and persists as the result."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen and self._known:
            seen.add(id(current))
            current.args = tuple(self.value(a) for a in current.args)
            for name, field in list(getattr(current, "__dict__", {}).items()):
                if isinstance(field, (str, list, dict)):
                    with contextlib.suppress(AttributeError, TypeError):  # a read-only field stays
                        setattr(current, name, self.value(field))
            current = current.__cause__ or current.__context__
        return error

    def value(self, value: Any) -> Any:
        if not self._known:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        return value


_FEW = 64  # up to this many forms, `in` and `replace` per form; beyond, one scan by prefixes


def _strings(value: Any) -> Iterator[str]:
    """The strings a JSON-like value holds (keys included), depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


class SecretGuard:
    """What a run does so that secret-derived values are never written (docs/language.md#secrets):
    a result whose output is secret-derived (`derived`: the plan's node ids, compiler/taint.py)
    is marked `secret`, so the state file, the journal, the log and Prefect keep `***` instead
    of its output, and its strings are learned by the run's redactor; every error message a
    result records is redacted here, so what is printed from the state (the command's summary)
    holds no secret either."""

    def __init__(self, redactor: Redactor, derived: frozenset[str]) -> None:
        self.redactor = redactor
        self.derived = derived

    def result(self, key: str, result: NodeResult) -> None:
        if result.output is not None and node_of(key) in self.derived:
            result.secret = True
            self.redactor.learn(result.output)
        if result.error is not None and self.redactor:
            result.error.message = self.redactor.text(result.error.message)
            if result.error.stack:
                result.error.stack = self.redactor.text(result.error.stack)

    def text(self, value: str) -> str:
        return self.redactor.text(value)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def withhold_quoted(error: BaseException) -> BaseException:
    """Replaces the quoted text of expression errors (the error and its causes) with '***', in
    place. An expression error quotes the value it failed on (`unknown time zone 'ABC'`); in a
    node that makes values of secrets, that value may be one the expression made mid-way
    (`upper($secrets.K)`), which no redactor has seen, so what it quotes is withheld."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FlowScriptError) and current.code.startswith("EXPR_"):
            current.message = _QUOTED.sub("'***'", current.message)
            current.args = (current.message, *current.args[1:])
        current = current.__cause__ or current.__context__
    return error


def node_of(key: str) -> str:
    """The node id of a result key: `each[3].fmt` -> `fmt`, `live->cache` -> `live`."""
    return key.rsplit(".", 1)[-1].split("->", 1)[0]

"""Checks a parsed workflow before anything runs (FLOWSCRIPT.md 4) and plans it.

Every finding is a Diagnostic with a stable code, `file:line:column` and a hint where one
helps. Errors stop a run (exit 2); warnings are advice, or errors under `--strict`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from flowscript.compiler.ast import (
    AnyNode,
    DataNode,
    LoopNode,
    ParallelNode,
    SinkNode,
    TransformNode,
    Workflow,
    walk,
)
from flowscript.compiler.diagnostics import Diagnostic
from flowscript.compiler.planner import Plan, build_plan
from flowscript.compiler.schedules import schedule_of
from flowscript.compiler.sites import ALWAYS_BOUND, Site, iter_sites, position_in_file, secret_references
from flowscript.errors import ExpressionError, SourceLocation, ValidationError
from flowscript.expressions import compile_expression, compile_template
from flowscript.syntax.source import Location

_WAIT = re.compile(r"^(all|any|n\((\d+)\))$")

# config keys a data node cannot run without, by kind:type
REQUIRED_CONFIG: dict[str, tuple[str, ...]] = {
    "source:http": ("url",),
    "source:file": ("path",),
    "sink:http": ("url",),
    "sink:file": ("path",),
    "transform:map": ("expression",),
    "transform:filter": ("condition",),
    "transform:template": ("template",),
    "transform:ai": ("model",),
}
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "format": ("json", "text", "csv", "yaml", "auto"),
    "method": ("GET", "POST", "PUT", "DELETE", "PATCH"),
}


def check_workflow(workflow: Workflow) -> tuple[list[Diagnostic], Plan | None]:
    """All diagnostics of the workflow (sorted by position), and its plan when it has no cycle."""
    checker = _Checker(workflow)
    checker.run()
    plan: Plan | None = None
    try:
        plan = build_plan(workflow)
    except ValidationError as e:
        checker.add(e.code, e.message, e.location, hint=e.hint)
    try:
        schedule_of(workflow)
    except ValidationError as e:
        checker.add(e.code, e.message, e.location, hint=e.hint)
    return sorted(checker.found, key=_position), plan


def _position(d: Diagnostic) -> tuple[int, int]:
    return (d.location.line, d.location.column) if d.location else (0, 0)


class _Checker:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.file = workflow.path
        self.found: list[Diagnostic] = []
        self.all_nodes: list[AnyNode] = list(walk(workflow.nodes))
        self.ids = frozenset(n.id for n in self.all_nodes)

    def add(self, code: str, message: str, where: Location | SourceLocation | None, *,
            hint: str | None = None, warning: bool = False) -> None:
        if isinstance(where, Location):
            where = SourceLocation(where.line, where.column, self.file)
        self.found.append(Diagnostic(code, message, "warning" if warning else "error", where, hint))

    def run(self) -> None:
        self._duplicate_ids()
        self._node_references()
        self._data_node_config()
        self._control_attributes()
        self._advice()
        for site in iter_sites(self.workflow):
            self._site(site)

    # ---------------------------------------------------------------- checks
    def _duplicate_ids(self) -> None:
        first_seen: dict[str, AnyNode] = {}
        for node in self.all_nodes:
            if node.id in first_seen:
                first = first_seen[node.id].location
                self.add("VALID_DUPLICATE_NODE_ID", f"node id '{node.id}' is used twice", node.location,
                         hint=f"it is first used at line {first.line}; ids are unique across the whole workflow")
            else:
                first_seen[node.id] = node

    def _node_references(self) -> None:
        for node in self.all_nodes:
            if node.input is not None and node.input not in self.ids:
                self.add("VALID_UNDEFINED_NODE_REF", f"node '{node.id}' takes input from unknown node "
                         f"'{node.input}'", node.value_locations.get("input", node.location),
                         hint=_did_you_mean(node.input, self.ids))
            if node.input == node.id:
                self.add("VALID_CIRCULAR_DEPENDENCY", f"node '{node.id}' takes its own output as input",
                         node.value_locations.get("input", node.location))
            if isinstance(node, DataNode) and node.on_error and node.on_error.fallback:
                fallback = node.on_error.fallback
                where = node.on_error.location or node.location
                if fallback not in self.ids:
                    self.add("VALID_UNDEFINED_NODE_REF", f"node '{node.id}' falls back to unknown node "
                             f"'{fallback}'", where, hint=_did_you_mean(fallback, self.ids))
                elif fallback == node.id:
                    self.add("VALID_CIRCULAR_DEPENDENCY", f"node '{node.id}' names itself as its fallback",
                             where)

    def _data_node_config(self) -> None:
        for node in self.all_nodes:
            if not isinstance(node, DataNode):
                continue
            kind = f"{node.kind}:{node.type}"
            for key in REQUIRED_CONFIG.get(kind, ()):
                if node.config.get(key) in (None, ""):
                    self.add("VALID_MISSING_REQUIRED_FIELD", f"{kind} node '{node.id}' needs '{key}'",
                             node.location, hint=f"add {key}=\"...\" or a <{key}> element")
            for key, allowed in ALLOWED_VALUES.items():
                value = node.config.get(key)
                if isinstance(value, str) and "{{" not in value:
                    normalised = value.upper() if key == "method" else value.lower()
                    if normalised not in allowed:
                        self.add("VALID_INVALID_FIELD_TYPE", f"node '{node.id}': {key} '{value}' is not one of "
                                 f"{', '.join(allowed)}", node.value_locations.get(key, node.location))

    def _control_attributes(self) -> None:
        for node in self.all_nodes:
            if isinstance(node, ParallelNode):
                match = _WAIT.match(node.wait)
                where = node.value_locations.get("wait", node.location)
                if not match:
                    self.add("VALID_INVALID_FIELD_TYPE", f"parallel '{node.id}': wait '{node.wait}' is not "
                             "all, any or n(K)", where)
                elif match.group(2) and not 1 <= int(match.group(2)) <= len(node.branches):
                    self.add("VALID_INVALID_FIELD_TYPE", f"parallel '{node.id}' waits for {match.group(2)} "
                             f"branches but has {len(node.branches)}", where,
                             hint=f"K must be between 1 and {len(node.branches)}")

    def _advice(self) -> None:
        for node in self.workflow.nodes:  # nested nodes receive the previous body node's output
            is_ai = isinstance(node, TransformNode) and node.type == "ai"
            if (isinstance(node, SinkNode) or is_ai) and node.input is None:
                what = "sink" if isinstance(node, SinkNode) else "ai transform"
                self.add("VALID_MISSING_REQUIRED_FIELD", f"{what} '{node.id}' has no input", node.location,
                         hint="add input=\"node-id\" naming the node whose output it receives", warning=True)
        for node in self.all_nodes:
            if isinstance(node, LoopNode) and node.max is None and node.break_ is None:
                self.add("VALID_MISSING_REQUIRED_FIELD", f"loop '{node.id}' has neither max nor break",
                         node.location, hint="it stops after 1000 iterations; add max=\"N\" or break=\"...\"",
                         warning=True)

    def _site(self, site: Site) -> None:
        try:
            compiled = (compile_expression if site.kind == "expression" else compile_template)(
                site.text, node_ids=self.ids)
        except ExpressionError as e:
            self.add(e.code, f"{e.message} (in {site.key} of '{site.owner.id}')",
                     position_in_file(site, e.position, self.file), hint=e.hint)
            return
        for name, offset in compiled.name_positions:
            if name not in self.ids and name not in ALWAYS_BOUND and name not in site.bound:
                known = self.ids | ALWAYS_BOUND | site.bound  # only for the hint: not a copy per site
                self.add("EXPR_UNDEFINED_VARIABLE", f"unknown name '{name}' in {site.key} of '{site.owner.id}' "
                         "(it evaluates to null)", position_in_file(site, offset, self.file),
                         hint=_did_you_mean(name, known), warning=True)
        declared = set(self.workflow.meta.secrets)
        for secret, offset in secret_references(site.text):
            if secret not in declared:
                self.add("VALID_UNDEFINED_SECRET_REF", f"secret '{secret}' is used in '{site.owner.id}' but not "
                         "declared", position_in_file(site, offset, self.file),
                         hint=f"add it to the frontmatter: secrets: [{', '.join([*declared, secret])}]")


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None

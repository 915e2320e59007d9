"""Checks a parsed workflow before anything runs (docs/language.md#validation) and plans it.

Every finding is a Diagnostic with a stable code, `file:line:column` and a hint where one
helps. Errors stop a run (exit 2); warnings are advice, or errors under `--strict`.
"""

from __future__ import annotations

from flowscript.compiler.ast import Workflow
from flowscript.compiler.diagnostics import Diagnostic
from flowscript.compiler.planner import Plan, build_plan
from flowscript.compiler.schedules import schedule_of
from flowscript.compiler.sites import ALWAYS_BOUND, Site, iter_sites, position_in_file, secret_references
from flowscript.errors import ExpressionError, SourceLocation, ValidationError
from flowscript.expressions import check_template, compile_expression
from flowscript.nodes.base import Node, walk
from flowscript.nodes.data import DataNode
from flowscript.syntax.source import Location, did_you_mean


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
    if plan is not None:
        checker.ungated_siblings(plan)
    return sorted(checker.found, key=_position), plan


def _position(d: Diagnostic) -> tuple[int, int]:
    return (d.location.line, d.location.column) if d.location else (0, 0)


class _Checker:
    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.file = workflow.path
        self.found: list[Diagnostic] = []
        self.all_nodes: list[Node] = list(walk(workflow.nodes))
        self.ids = frozenset(n.id for n in self.all_nodes)

    def add(self, code: str, message: str, where: Location | SourceLocation | None, *,
            hint: str | None = None, warning: bool = False) -> None:
        if isinstance(where, Location):
            where = SourceLocation(where.line, where.column, self.file)
        self.found.append(Diagnostic(code, message, "warning" if warning else "error", where, hint))

    def run(self) -> None:
        self._duplicate_ids()
        self._node_references()
        self._kind_rules()
        self._advice()
        for site in iter_sites(self.workflow):
            self._site(site)

    # ---------------------------------------------------------------- checks
    def _duplicate_ids(self) -> None:
        first_seen: dict[str, Node] = {}
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
                         hint=did_you_mean(node.input, self.ids))
            if node.input == node.id:
                self.add("VALID_CIRCULAR_DEPENDENCY", f"node '{node.id}' takes its own output as input",
                         node.value_locations.get("input", node.location))
            if isinstance(node, DataNode) and node.on_error and node.on_error.fallback:
                fallback = node.on_error.fallback
                where = node.on_error.location or node.location
                if fallback not in self.ids:
                    self.add("VALID_UNDEFINED_NODE_REF", f"node '{node.id}' falls back to unknown node "
                             f"'{fallback}'", where, hint=did_you_mean(fallback, self.ids))
                elif fallback == node.id:
                    self.add("VALID_CIRCULAR_DEPENDENCY", f"node '{node.id}' names itself as its fallback",
                             where)

    def _kind_rules(self) -> None:
        for node in self.all_nodes:
            node.check(self.add)

    def _advice(self) -> None:
        for node in self.workflow.nodes:  # nested nodes receive the previous body node's output
            if isinstance(node, DataNode) and node.wants_input and node.input is None:
                what = "sink" if node.kind == "sink" else f"{node.type} {node.kind}"
                self.add("VALID_MISSING_REQUIRED_FIELD", f"{what} '{node.id}' has no input", node.location,
                         hint="add input=\"node-id\" naming the node whose output it receives", warning=True)

    def ungated_siblings(self, plan: Plan) -> None:
        """A checkpoint does not hold back the other nodes of its wave: they run while the approval
        is asked, so a rejection comes after they ran (the reference's own "checkpoint approval"
        example wrote its file before the answer). Each such node is a warning, with the fix."""
        for wave in plan.waves:
            gates = [node_id for node_id in wave.node_ids
                     if any(n.asks_approval for n in walk([plan.nodes[node_id]]))]
            for gate in gates:
                checkpoint = next(n.id for n in walk([plan.nodes[gate]]) if n.asks_approval)
                for node_id in wave.node_ids:
                    if node_id == gate or node_id in gates:
                        continue
                    received = ("it then receives the checkpoint's output: the approved value is input.input"
                                if gate == checkpoint else f"'{gate}' holds the checkpoint")
                    self.add("VALID_CHECKPOINT_NOT_AWAITED",
                             f"'{node_id}' does not wait for checkpoint '{checkpoint}': it runs while the approval "
                             "is asked, so a rejection comes after it ran", plan.nodes[node_id].location,
                             warning=True, hint=f'give it input="{gate}" to run only once the approval is given '
                                                f"({received})")

    def _site(self, site: Site) -> None:
        """Every finding of one site: a template's bad segment leaves its other segments' names
        to check, and the secrets it names are checked whatever else is wrong."""
        errors: list[ExpressionError] = []
        names: tuple[tuple[str, int], ...] = ()
        if site.kind == "expression":
            try:
                names = compile_expression(site.text, node_ids=self.ids).name_positions
            except ExpressionError as bad:
                errors = [bad]
        else:
            errors, names = check_template(site.text, node_ids=self.ids)
        for error in errors:
            self.add(error.code, f"{error.message} (in {site.key} of '{site.owner.id}')",
                     position_in_file(site, error.position, self.file), hint=error.hint)
        for name, offset in names:
            if name not in self.ids and name not in ALWAYS_BOUND and name not in site.bound:
                known = self.ids | ALWAYS_BOUND | site.bound  # only for the hint: not a copy per site
                self.add("EXPR_UNDEFINED_VARIABLE", f"unknown name '{name}' in {site.key} of '{site.owner.id}' "
                         "(it evaluates to null)", position_in_file(site, offset, self.file),
                         hint=did_you_mean(name, known), warning=True)
        declared = set(self.workflow.meta.secrets)
        for secret, offset in secret_references(site.text):
            if secret not in declared:
                self.add("VALID_UNDEFINED_SECRET_REF", f"secret '{secret}' is used in '{site.owner.id}' but not "
                         "declared", position_in_file(site, offset, self.file),
                         hint=f"add it to the frontmatter: secrets: [{', '.join([*declared, secret])}]")


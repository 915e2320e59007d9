"""Which nodes' outputs are computed from secrets (docs/language.md#secrets).

A value computed from a secret is secret: `upper(input)` of a secret-derived input,
`base64_encode(user + ":" + $secrets.PASS)`, `slice($secrets.KEY, 0, 8)`, a concatenation.
Redaction recognises a secret's own text, not what expressions make of it, so the engine
withholds such outputs instead: it never writes them (state file, journal, log, Prefect
results and artifacts), and cuts their text out of everything it does write.

The rule, decided here once per workflow (statically, so every backend and every resume sees
the same answer):

- A data node whose output its expressions compute (template, map, filter:
  `DataNode.derived_output`) is secret-derived when one of its expressions reads `$secrets`
  or the output of a secret-derived node, or reads its input (`input`, `$item`...) while
  that input is secret-derived; a filter (`passes_input`) whenever its input is.
  A fallback's output stands in for the node's: a secret-derived fallback makes the node so.
- Sources and sinks (http, file) and the AI transform do I/O: their outputs are what a
  server, a file or a model answered, not derived (an answer that echoes a secret-derived
  value is caught by its text).
- A control node's output is its input passed on, its bodies' outputs or what its value
  expressions compute (a foreach's collection, a parallel's merge:
  `ControlNode.value_sites`): secret-derived when any of these is. A body's first node
  receives the control node's input (a foreach's items); a loop's or a while's later
  iterations receive the previous iteration's output (`body_receives_output`); a `<break/>`
  carries the output before it out to the loop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from flowscript.compiler.ast import Workflow
from flowscript.compiler.sites import iter_sites
from flowscript.errors import ExpressionError
from flowscript.expressions import compile_expression, compile_template
from flowscript.nodes.base import BodyItem, BreakNode, ControlNode, Node, walk
from flowscript.nodes.data import ITEM_NAMES, DataNode

SECRETS = "$secrets"


def secret_derived(workflow: Workflow, reads: Mapping[str, frozenset[str]]) -> tuple[frozenset[str], frozenset[str]]:
    """The ids of the nodes whose outputs are secret-derived, and of the nodes that handle
    secret-derived values (those, and the nodes whose input or expressions read such a value or
    make one from a secret: `upper($secrets.K)` in a URL). `reads`: the names each node's own
    expressions read (the planner's `Plan.reads`)."""
    nodes = {n.id: n for n in walk(workflow.nodes)}
    value_reads = _value_site_reads(workflow, frozenset(nodes))
    falling_back: dict[str, list[str]] = {}
    for node in nodes.values():
        if isinstance(node, DataNode) and node.fallback:
            falling_back.setdefault(node.fallback, []).append(node.id)
    derived: set[str] = set()
    inputs: set[str] = set()  # nodes whose input is secret-derived

    def reads_secret(names: frozenset[str]) -> bool:
        return SECRETS in names or any(name in derived for name in names)

    def input_of(node: Node, default: bool) -> bool:
        if node.input is not None:
            return node.input in derived
        return default or any(n in inputs for n in falling_back.get(node.id, ()))  # a fallback's input

    broke: list[bool] = []  # each <break/> reached: does the output it carries out derive from a secret?

    def body(items: Sequence[BodyItem], entry: bool) -> bool:
        previous = entry
        for item in items:
            if isinstance(item, BreakNode):
                broke.append(previous)
            else:
                previous = one(item, input_of(item, previous))
        return previous

    def one(node: Node, input_derived: bool) -> bool:
        if input_derived:
            inputs.add(node.id)
        names = reads.get(node.id, frozenset())
        if isinstance(node, DataNode):
            out = node.derived_output and (reads_secret(names) or (input_derived and (
                node.passes_input or "input" in names or bool(names & ITEM_NAMES))))
            out = out or (node.fallback is not None and node.fallback in derived)
        elif isinstance(node, ControlNode):
            values = value_reads.get(node.id, frozenset())
            out = input_derived or reads_secret(values)
            entry = out or (node.body_receives_output and node.id in derived)
            breaks = len(broke)
            for nested in node.bodies():
                out = body(nested.items, entry) or out
            out = out or any(broke[breaks:])  # a break's output may become a loop's (this one's or an outer one's)
        else:
            out = False
        if out:
            derived.add(node.id)
        return out or node.id in derived

    while True:  # to a fixpoint: a loop feeds its output back, a reference may point ahead in a body
        before = (len(derived), len(inputs))
        for top in workflow.nodes:
            one(top, input_of(top, False))
        if (len(derived), len(inputs)) == before:
            break
    touching = derived | inputs | transforming_secrets(workflow)
    touching |= {n for n, names in reads.items() if any(name in derived for name in names)}
    return frozenset(derived), frozenset(touching)


_BARE_TEXT = r"""\$secrets\s*(?:\?\.|\.)\s*[A-Za-z_$][\w$]*|\$secrets\s*(?:\?\.)?\[\s*(?P<q>['"])[^'"]*(?P=q)\s*\]"""
_BARE = re.compile(_BARE_TEXT)  # `$secrets.K`, `$secrets['K']`: the secret's own text
_BARE_SEGMENT = re.compile(r"\{\{\s*(?:" + _BARE_TEXT + r")\s*\}\}")


def transforming_secrets(workflow: Workflow) -> set[str]:
    """Nodes with an expression that makes something of a secret (`upper($secrets.K)`,
    `$secrets.A + $secrets.B` in one expression) rather than using it as it is (`Bearer
    {{$secrets.K}}`, whose text redaction recognises)."""
    found: set[str] = set()
    for site in iter_sites(workflow):
        if SECRETS not in site.text:
            continue
        if site.kind == "expression":
            bare = _BARE.fullmatch(site.text.strip()) is not None
        else:
            bare = SECRETS not in _BARE_SEGMENT.sub("", site.text)
        if not bare:
            found.add(site.owner.id)
    return found


def _value_site_reads(workflow: Workflow, node_ids: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each control node, the names read by the sites whose values reach its output."""
    found: dict[str, set[str]] = {}
    for site in iter_sites(workflow):
        owner = site.owner
        if not isinstance(owner, ControlNode) or site.key not in owner.value_sites:
            continue
        try:
            compiled = (compile_expression if site.kind == "expression" else compile_template)(
                site.text, node_ids=node_ids)
        except ExpressionError:
            continue  # the validator reports it
        found.setdefault(owner.id, set()).update(compiled.names)
    return {k: frozenset(v) for k, v in found.items()}

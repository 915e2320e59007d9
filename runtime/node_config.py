"""Which data-node config entries are not plain templates (FLOWSCRIPT.md 5.3).

Every config string is resolved as a template before a node runs, except the entries a
runtime evaluates itself: expressions (map's `expression`, filter's `condition`) and the
template transform's `template`, which is always rendered to a string.
"""

from collections.abc import Mapping

EXPRESSION_CONFIG: Mapping[str, frozenset[str]] = {
    "transform:map": frozenset({"expression"}),
    "transform:filter": frozenset({"condition"}),
}
SELF_EVALUATED_CONFIG: Mapping[str, frozenset[str]] = {
    **EXPRESSION_CONFIG,
    "transform:template": frozenset({"template"}),
}

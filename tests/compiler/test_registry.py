"""nodes/registry.py names each kind's element, type and module: each line must lead to the
class that reads that element, so the lazy table and the classes cannot drift apart."""

from __future__ import annotations

import pytest

from flowscript.nodes.data import DataNode
from flowscript.nodes.registry import KINDS, TABLE, Kind


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k.tag}:{k.type}" if k.type else k.tag)
def test_each_line_leads_to_the_class_of_its_element(kind: Kind) -> None:
    cls = kind.load()
    assert cls.kind == kind.tag
    if kind.type is None:
        assert not issubclass(cls, DataNode)
    else:
        assert issubclass(cls, DataNode) and cls.type == kind.type


def test_every_element_is_registered_once() -> None:
    written = [(k.tag, k.type) for k in KINDS]
    assert len(written) == len(set(written))
    assert not set(TABLE.data) & set(TABLE.control)


def test_an_element_without_type_gets_its_first_type() -> None:
    assert {tag: next(iter(types)) for tag, types in TABLE.data.items()} == {
        "source": "http", "transform": "template", "sink": "http"}

"""The lenient XML reader (docs/language.md#the-body): leniency rules, refusals, positions, linear time."""

from __future__ import annotations

import contextlib
import time

import pytest

from flowscript.errors import ParseError
from flowscript.syntax.source import Location, Source
from flowscript.syntax.xml_reader import MAX_DEPTH, Element, Text, find_workflow, read_element


def read(text: str) -> Element:
    source = Source.from_text(text, "x.flow.md")
    start = find_workflow(source, 0)
    assert start is not None
    return read_element(source, start)


def fails(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        read(text)
    assert caught.value.code == "PARSE_XML_INVALID"
    return caught.value


def where(error: ParseError) -> tuple[int, int]:
    assert error.location is not None
    return error.location.line, error.location.column


def inner_text(text: str) -> str:
    """The text of the single child of <workflow><c>...</c></workflow>."""
    root = read(f"<workflow><c>{text}</c></workflow>")
    return root.elements()[0].text().text


# ------------------------------------------------------------------ leniency


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("$item.id <= 5 && $item.ok", "$item.id <= 5 && $item.ok"),
        ("a < 5", "a < 5"),
        ("a <5", "a <5"),
        ("a<b && c", "a<b && c"),
        ("a < b && c", "a < b && c"),
        ("x<y", "x<y"),
        ("a <b || c", "a <b || c"),
        ("a </ b", "a </ b"),
        ("a <! b", "a <! b"),
        ("a &&& b", "a &&& b"),
        ("&amp;&&", "&&&"),
        ("&lt;&gt;&amp;&quot;&apos;", "<>&\"'"),
        ("&lt", "&lt"),
        ("&#60; &#x3C; &nbsp; &unknown;", "&#60; &#x3C; &nbsp; &unknown;"),
        ("<![CDATA[<b>&amp; stays</b>]]>", "<b>&amp; stays</b>"),
        ("a<!-- hidden <x> -->b", "ab"),
        ("]]> alone", "]]> alone"),
    ],
)
def test_literal_text_rules(written: str, read_as: str) -> None:
    assert inner_text(written) == read_as


def test_attribute_values_hold_markup_characters_and_decode_entities() -> None:
    root = read("<workflow><if condition=\"a <= 5 && b > 2 &amp;&amp; c\" "
                "other='say \"hi\" &apos;x&apos;'/></workflow>")
    element = root.elements()[0]
    assert element.attributes["condition"].value.text == "a <= 5 && b > 2 && c"
    assert element.attributes["other"].value.text == "say \"hi\" 'x'"


def test_tags_self_closing_nested_and_whitespace_in_tags() -> None:
    root = read('<workflow>\n  <a x = "1"\n     y="2" />\n  <b><c/></b >\n</workflow>')
    a, b = root.elements()
    assert (a.tag, a.children) == ("a", [])
    assert {k: v.value.text for k, v in a.attributes.items()} == {"x": "1", "y": "2"}
    assert [e.tag for e in b.elements()] == ["c"]


def test_reading_stops_at_the_closing_workflow_tag() -> None:
    root = read("<workflow><a/></workflow>\n## Execution Log\n<b> unbalanced </c> & <!DOCTYPE x>")
    assert [e.tag for e in root.elements()] == ["a"]


def test_closing_tags_inside_comments_cdata_and_attributes_do_not_close() -> None:
    root = read('<workflow><!-- </workflow> --><a v="</workflow>"><![CDATA[</workflow>]]></a></workflow>')
    a = root.elements()[0]
    assert a.attributes["v"].value.text == "</workflow>"
    assert a.text().text == "</workflow>"


def test_text_children_are_kept_with_elements() -> None:
    root = read("<workflow>one<a/>two</workflow>")
    assert [type(c) for c in root.children] == [Text, Element, Text]


# ------------------------------------------------------------------ positions


def test_positions_of_elements_attributes_and_text() -> None:
    text = "intro\n<workflow>\n  <node  id='n1'>\n    hello &amp; bye\n  </node>\n</workflow>"
    source = Source.from_text(text)
    root = read_element(source, find_workflow(source, 0) or 0)
    node = root.elements()[0]
    assert source.location(root.offset) == Location(2, 1)
    assert source.location(node.offset) == Location(3, 3)
    id_at = source.location(node.attributes["id"].value.raw_offset(0))
    assert id_at == Location(3, 14)
    body, offset = node.text().trimmed()
    assert body == "hello & bye"
    assert source.location(offset) == Location(4, 5)
    # after a decoded entity, positions still point at the right file column
    assert source.location(node.text().raw_offset(node.text().text.index("bye"))) == Location(4, 17)


def test_columns_count_characters_not_bytes() -> None:
    source = Source.from_text("<workflow><a v='é€😀' w='x'/></workflow>")
    root = read_element(source, 0)
    assert source.location(root.elements()[0].attributes["w"].value.raw_offset(0)).column == 25


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE lolz [<!ENTITY lol 'lol'>]>",
        "<!ENTITY xxe SYSTEM 'file:///etc/passwd'>",
        "<!doctype html>",
        "<!ELEMENT a ANY>",
    ],
)
def test_dtds_are_refused(body: str) -> None:
    error = fails(f"<workflow>\n  {body}\n</workflow>")
    assert "DTD" in error.message
    assert where(error) == (2, 3)


def test_processing_instructions_are_refused() -> None:
    error = fails("<workflow><?xml version='1.0'?></workflow>")
    assert "processing instruction" in error.message and where(error) == (1, 11)


def test_billion_laughs_entities_are_never_expanded() -> None:
    # a DTD in the Markdown before <workflow> is documentation; its entities are never defined
    text = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
            "<workflow><c>&lol2;&lol;</c></workflow>")
    assert read(text).elements()[0].text().text == "&lol2;&lol;"


def test_mismatched_closing_tag_names_the_open_element() -> None:
    error = fails("<workflow>\n  <if>\n    <then>\n  </if>\n</workflow>")
    assert where(error) == (4, 3)
    assert "<then> (line 3, column 5) is still open" in error.message
    assert "</then>" in (error.hint or "")


def test_closing_tag_without_open_element() -> None:
    error = fails("<workflow>\n  <a></b>\n</workflow>")
    assert where(error) == (2, 6)
    assert error.hint == "did you mean </a>?"


def test_unclosed_workflow_points_at_its_open_tag() -> None:
    error = fails("text\n\n  <workflow>\n  <a/>\n")
    assert where(error) == (3, 3) and "<workflow> is never closed" in error.message


def test_unclosed_inner_element_at_end_of_input() -> None:
    error = fails("<workflow>\n <a>\n")
    assert "<a> is never closed" in error.message


@pytest.mark.parametrize(
    ("body", "position", "words"),
    [
        ('<a x="1" x="2"/>', (1, 20), "given twice"),
        ("<a x=1/>", (1, 16), "must be quoted"),
        ('<a x="1/>', (1, 16), "never closed"),
        ('<a x="1"y="2"/>', (1, 19), "whitespace"),
        ("<a x>", None, None),
     # `<a x>`: read as a tag without attributes? no: `x` has no `=` -> literal text
        ("<!-- never closed", (1, 11), "comment"),
        ("<![CDATA[ never closed", (1, 11), "CDATA"),
        ("<a></a", (1, 14), "not closed"),
    ],
)
def test_syntax_errors_with_positions(body: str, position: tuple[int, int] | None, words: str | None) -> None:
    if position is None:
        assert read(f"<workflow>{body}</workflow>").children[0].span.text == body  # type: ignore[union-attr]
        return
    error = fails(f"<workflow>{body}</workflow>")
    assert where(error) == position
    assert words in error.message


def test_start_tag_without_end() -> None:
    error = fails('<workflow>\n  <a x="1" ')
    assert "not closed" in error.message and where(error) == (2, 3)


def test_depth_is_limited() -> None:
    deep = "<a>" * (MAX_DEPTH + 5)
    error = fails(f"<workflow>{deep}")
    assert "nested too deeply" in error.message


# ------------------------------------------------------------------ finding <workflow>


def test_find_workflow_skips_code_and_lookalikes() -> None:
    text = (
        "Use `<workflow>` to hold nodes; <workflows> is not it.\n"
        "```xml\n<workflow>example</workflow>\n```\n"
        "~~~~\n<workflow>\n~~~\n~~~~\n"
        "<workflow-notes/>\n"
        "  <workflow name='real'>\n</workflow>\n"
    )
    source = Source.from_text(text)
    offset = find_workflow(source, 0)
    assert offset is not None
    assert source.location(offset) == Location(10, 3)


def test_find_workflow_none() -> None:
    assert find_workflow(Source.from_text("no body here <work>"), 0) is None


# ------------------------------------------------------------------ linear time


@pytest.mark.parametrize(
    "chunk",
    [
        "a < b && c ",
        "<a x",
        '<a x="',
        "<x y='<a z=\" ",
        "&&&&&amp;&",
        "<!",
        "<",
        "<a b ",
    ],
)
def test_pathological_text_is_read_in_linear_time(chunk: str) -> None:
    small = "<workflow><c>" + chunk * 2_000 + "</c></workflow>"
    big = "<workflow><c>" + chunk * 40_000 + "</c></workflow>"

    def timed(text: str) -> float:
        started = time.perf_counter()
        with contextlib.suppress(ParseError):
            read(text)
        return time.perf_counter() - started

    assert timed(big) < 2.0
    assert timed(big) < 40 * timed(small) + 0.5  # 20x the input: far from 400x (quadratic)

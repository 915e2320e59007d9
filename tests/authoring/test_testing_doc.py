"""docs/testing.md shows the example workflow and its tests as they are in tests/authoring/."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "testing.md"


def test_the_doc_shows_the_example_and_its_tests_as_they_are():
    text = DOC.read_text()
    assert (HERE / "support-triage.flow.md").read_text() in text
    assert (HERE / "test_support_triage.py").read_text() in text

"""Assertions shared by the CLI tests."""


def assert_no_traceback(output: str) -> None:
    assert "Traceback (most recent call last)" not in output, output

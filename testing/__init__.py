"""Testing workflows with pytest (docs/testing.md): the pieces the `flowscript` pytest plugin's
fixtures are made of, for tests that want them directly.

- `copy_workflow(path, folder)`: the workflow and the data files it reads, in a folder of the test's.
- `FakeModel`: an OpenAI-compatible chat-completions endpoint answered offline (through respx),
  as a real model answers: text, JSON, or the `respond` tool call of an output schema; it
  records every request (`model.requests`, `model.prompts("summarize")`).
- `assert_output`, `assert_status`: assertions whose failure names the node, expected and got.
"""

from __future__ import annotations

from flowscript.testing.assertions import assert_output, assert_status
from flowscript.testing.fake_model import AiRequest, FakeModel
from flowscript.testing.folders import copy_workflow

__all__ = ["AiRequest", "FakeModel", "assert_output", "assert_status", "copy_workflow"]

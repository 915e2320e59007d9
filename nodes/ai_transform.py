"""`<transform type="ai">`: a chat completion against an OpenAI-compatible endpoint, with an
optional output schema answered through the `respond` tool (docs/language.md#ai)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowscript.nodes.base import DataCall, WithMeta
from flowscript.nodes.data import TransformNode


@dataclass(kw_only=True, slots=True)
class AiTransform(TransformNode):
    """`<transform type="ai">`: one chat completion, its answer checked against the output schema."""

    type = "ai"
    required_config = ("model",)
    wants_input = True

    async def run(self, call: DataCall) -> Any:
        from flowscript.nodes.io.ai import ai_transform

        result = await ai_transform(call.config(), call.input, client=call.http, secrets=call.secrets, env=call.env,
                                    node_id=self.id)
        return WithMeta(result.output, {"usage": result.usage})

"""An OpenAI-compatible chat-completions endpoint answered offline, through respx.

Every request to a URL ending in `/chat/completions` (the default OpenRouter address,
FLOWSCRIPT_AI_BASE_URL's, a node's `base-url`) is answered by this model, as a real model
answers an ai node: with the `respond` tool call when the node has an output schema
(`tool_choice` forces it), else with the message text (a value that is not a string is sent
as JSON text). Replies are set per node (`reply(..., node="summarize")`, matched by the
request's X-FlowScript-Node header) or in order (`reply(...)` queues one for any node); a
node's own replies are used before the queue; the last reply of a node repeats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

NODE_HEADER = "X-FlowScript-Node"
_WRAPPED = "value"  # how the respond tool carries an answer that is not an object


@dataclass(frozen=True, slots=True)
class AiRequest:
    """One request the model received: the node that sent it, its model, messages and tools."""

    node: str
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]

    @property
    def prompt(self) -> str:
        """The user message's text."""
        return next((str(m.get("content")) for m in self.messages if m.get("role") == "user"), "")

    @property
    def system(self) -> str | None:
        return next((str(m.get("content")) for m in self.messages if m.get("role") == "system"), None)


@dataclass
class _Reply:
    """One queued answer of the fake model."""

    output: Any
    status: int = 200
    usage: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 10, "completion_tokens": 5,
                                                            "total_tokens": 15})


class FakeModel:
    def __init__(self) -> None:
        self.requests: list[AiRequest] = []
        self._by_node: dict[str, list[_Reply]] = {}
        self._queue: list[_Reply] = []
        self.secrets = {"OPENROUTER_API_KEY": "fake-model-key"}  # what an ai node needs to send a request

    def reply(self, output: Any, *, node: str | None = None, status: int = 200) -> FakeModel:
        """What the model answers (an HTTP `status` other than 200: an error answer, 429 and
        5xx retryable as from a real endpoint)."""
        answer = _Reply(output, status)
        if node is None:
            self._queue.append(answer)
        else:
            self._by_node.setdefault(node, []).append(answer)
        return self

    def prompts(self, node: str) -> list[str]:
        return [r.prompt for r in self.requests if r.node == node]

    @contextmanager
    def answering(self, router: Any = None) -> Iterator[FakeModel]:
        """Routes chat completions to this model: on `router` (a respx router the test already
        uses), or a router of its own that lets every other request through."""
        import respx

        if router is not None:
            router.post(url__regex=r"/chat/completions$").mock(side_effect=self._answer)
            yield self
            return
        with respx.mock(assert_all_called=False) as own:
            own.post(url__regex=r"/chat/completions$").mock(side_effect=self._answer)
            own.route().pass_through()
            yield self

    def _answer(self, request: Any) -> Any:
        import httpx

        body = json.loads(request.content or b"{}")
        node = request.headers.get(NODE_HEADER, "")
        self.requests.append(AiRequest(node, str(body.get("model", "")), list(body.get("messages", [])),
                                       list(body.get("tools", []))))
        reply = self._next(node)
        if reply is None:
            return httpx.Response(500, json={"error": {"message": f"the fake model has no reply for node {node!r}: "
                                                                  "give one with ai.reply(...)"}})
        if reply.status != 200:
            return httpx.Response(reply.status, json={"error": {"message": str(reply.output)}})
        return httpx.Response(200, json=_completion(reply, body.get("tools") or []))

    def _next(self, node: str) -> _Reply | None:
        own = self._by_node.get(node)
        if own:
            return own.pop(0) if len(own) > 1 else own[0]
        if self._queue:
            return self._queue.pop(0)
        return None


def _completion(reply: _Reply, tools: list[dict[str, Any]]) -> dict[str, Any]:
    if tools:
        parameters = tools[0].get("function", {}).get("parameters", {})
        wrapped = set(parameters.get("properties", {})) == {_WRAPPED} and parameters.get("required") == [_WRAPPED]
        arguments = {_WRAPPED: reply.output} if wrapped and not isinstance(reply.output, dict) else reply.output
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_0", "type": "function",
            "function": {"name": tools[0]["function"]["name"], "arguments": json.dumps(arguments)}}]}
        finish = "tool_calls"
    else:
        text = reply.output if isinstance(reply.output, str) else json.dumps(reply.output)
        message, finish = {"role": "assistant", "content": text}, "stop"
    return {"id": "fake-completion", "object": "chat.completion", "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": reply.usage}

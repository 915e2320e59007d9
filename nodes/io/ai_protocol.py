"""The OpenAI-compatible chat-completions wire format, for the ai transform.

Pure functions: the request body (with the forced `respond` tool when there is an output
schema), reading a completion (text, tool call, usage), checking a structured answer
against the schema, and the provider's error message. No I/O here, so every rule is
testable without a server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from flowscript.nodes.io.ai_settings import AISettings

TOOL_NAME = "respond"
_WRAPPED = "value"  # the tool parameters must be an object; other schemas are wrapped
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n(.*?)\n?```$", re.DOTALL)
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


class InvalidAnswer(Exception):
    """A structured answer that cannot be used; the message is told to the model on re-ask."""


@dataclass(slots=True)
class Usage:
    """Token figures summed over every request of one node execution."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = 0

    def add(self, usage: Any) -> None:
        self.requests += 1
        if not isinstance(usage, Mapping):
            return
        figures = {k: usage.get(k) for k in _USAGE_KEYS}
        prompt, completion, total = (v if isinstance(v, int) and not isinstance(v, bool) else 0
                                     for v in figures.values())
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.total_tokens += total or (prompt + completion)

    def as_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "requests": self.requests}


@dataclass(frozen=True, slots=True)
class Completion:
    """The parts of a chat completion the transform uses."""

    content: str | None
    tool_arguments: Any  # the first tool call's arguments (text or object), None without a call
    has_tool_call: bool
    finish_reason: str | None


def _is_object_schema(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object"


def tool_parameters(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The `respond` tool's parameters: the schema, wrapped in `{value: ...}` unless it is an object."""
    if _is_object_schema(schema):
        return dict(schema)
    return {"type": "object", "properties": {_WRAPPED: dict(schema)}, "required": [_WRAPPED],
            "additionalProperties": False}


def initial_messages(settings: AISettings) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if settings.system is not None:
        messages.append({"role": "system", "content": settings.system})
    messages.append({"role": "user", "content": settings.user})
    return messages


def request_body(settings: AISettings, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat-completions request; with a schema, one `respond` tool that the model must call."""
    body: dict[str, Any] = {"model": settings.model, "messages": messages}
    if settings.max_tokens is not None:
        body["max_tokens"] = settings.max_tokens
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.schema is not None:
        body["tools"] = [{"type": "function", "function": {
            "name": TOOL_NAME,
            "description": "Give your answer. Call this exactly once with the complete answer.",
            "parameters": tool_parameters(settings.schema),
        }}]
        body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
    return body


def _text(content: Any) -> str | None:
    """Message content: a string, or a list of parts whose text parts are joined."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        return "".join(str(p.get("text", "")) for p in parts)
    return str(content)


def read_completion(body: Any) -> Completion | None:
    """The first choice of a completion; None when the body holds no choice."""
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return None
    choice = choices[0]
    message: Mapping[str, Any] = choice["message"] if isinstance(choice.get("message"), Mapping) else {}
    calls = [c.get("function") for c in message.get("tool_calls") or [] if isinstance(c, Mapping)]
    functions: list[Mapping[str, Any]] = [f for f in calls if isinstance(f, Mapping)]
    chosen = next((f for f in functions if f.get("name") == TOOL_NAME), functions[0] if functions else None)
    return Completion(content=_text(message.get("content")),
                      tool_arguments=chosen.get("arguments") if chosen is not None else None,
                      has_tool_call=chosen is not None, finish_reason=choice.get("finish_reason"))


def text_answer(completion: Completion) -> Any:
    """The message text, parsed as JSON when it is JSON (also inside one ``` fenced block)."""
    text = completion.content or ""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    candidate = fenced.group(1).strip() if fenced else stripped
    if candidate:
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    return text


def _schema_errors(validator: Draft202012Validator, value: Any) -> str | None:
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    shown = [f"at {e.json_path}: {e.message}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(shown) + more


def structured_answer(completion: Completion, schema: Mapping[str, Any]) -> Any:
    """The `respond` tool call's arguments, checked against the schema; InvalidAnswer says why not."""
    cut = " (the answer was cut off: raise max-tokens)" if completion.finish_reason == "length" else ""
    if not completion.has_tool_call:
        raise InvalidAnswer(f"the answer did not call the `{TOOL_NAME}` tool{cut}")
    arguments = completion.tool_arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as e:
            raise InvalidAnswer(f"the `{TOOL_NAME}` arguments are not valid JSON ({e}){cut}") from None
    parameters = tool_parameters(schema)
    problem = _schema_errors(Draft202012Validator(parameters), arguments)
    if problem is not None:
        raise InvalidAnswer(f"the answer does not match the schema: {problem}{cut}")
    return arguments if _is_object_schema(schema) else arguments[_WRAPPED]


def reask_message(error: InvalidAnswer, completion: Completion) -> dict[str, Any]:
    """The user message that asks again, with what was wrong (and the answer, shortened)."""
    previous = completion.tool_arguments if completion.has_tool_call else completion.content
    if previous is not None and not isinstance(previous, str):
        previous = json.dumps(previous, ensure_ascii=False)
    shown = f"\nYour answer was: {previous[:2000]}" if previous else ""
    return {"role": "user", "content": f"Your previous answer was invalid: {error}.{shown}\n"
                                       f"Call the `{TOOL_NAME}` tool again with arguments that match "
                                       "its parameters schema exactly."}


def provider_message(body: Any) -> str:
    """The provider's own error text (`{error: {message}}` or the body), shortened."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            text = str(error["message"])
        elif isinstance(error, str):
            text = error
        else:
            text = json.dumps(body, ensure_ascii=False)
    else:
        text = "" if body is None else str(body)
    text = " ".join(text.split())
    return text if len(text) <= 500 else text[:497] + "..."


def error_status(body: Any) -> int | None:
    """A status inside a 200 answer's `{error: {code}}` (OpenRouter reports some failures so)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    return int(code) if isinstance(code, str) and code.isdigit() else 0

"""An agent episode: the model and its tools in a loop, until it answers, runs out of steps, or (in a
conversational task) the simulated user ends the conversation.

Every step is kept as plain JSON (the sample's `episode`): each model call with its tokens, cost and tool calls;
each tool call's arguments, result, and the environment's state hash after it; each simulated-user turn. The
ledger events and the report are made from that record, so a stored sample says everything that happened.
A call the model makes wrong (an unknown tool, arguments that are not JSON or break the tool's schema) is not run:
the model is told what is wrong, as real agent frameworks do, and the call is counted as invalid.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from gensandbox.calls.records import STOP, step_message
from gensandbox.canonical import now_utc_precise
from gensandbox.errors import EnvironmentBroken, RunError, ToolFailed
from gensandbox.runner.agent_spec import DEFAULT_MAX_STEPS, Attack, SimulatedUser
from gensandbox.runner.environments import Environment, result_text, state_sha256
from gensandbox.types import ChatRequest, ChatResponse, Message, Tool, ToolCall

USER_SYSTEM = ("You play a user talking to an assistant. Stay in role and follow these instructions:\n{instructions}\n"
               "Write only what the user says next, briefly. When your goal is met, or cannot be met, write "
               f"{STOP} and nothing else.")


@dataclass(frozen=True)
class Answer:
    """One model call's outcome, as the caller (the runner) made it: the response, its cost, and how it went."""

    response: ChatResponse
    cost_usd: float
    cached: bool = False
    attempts: int = 1


Caller = Callable[[ChatRequest], Awaitable[Answer]]  # raises RunError when the call fails


@dataclass
class Episode:
    steps: list[dict] = field(default_factory=list)
    end: str = "answered"  # answered | single_turn | max_steps | user_stopped | user_turns | error
    error: str | None = None
    final_text: str = ""
    state: dict | None = None
    user_cost_usd: float = 0.0
    attack_succeeded: bool | None = None
    invalid_calls: int = 0

    def record(self) -> dict:
        model_steps = [step for step in self.steps if step["kind"] == "model"]
        return {"steps": self.steps, "end": self.end, "error": self.error, "state": self.state,
                "state_sha256": state_sha256(self.state), "model_calls": len(model_steps),
                "tool_calls": sum(len(step["tool_calls"]) for step in model_steps),
                "invalid_calls": self.invalid_calls, "user_cost_usd": round(self.user_cost_usd, 10),
                "attack_succeeded": self.attack_succeeded}


@dataclass(frozen=True)
class Task:
    """What the loop needs from a suite item."""

    tools: tuple[Tool, ...]
    environment: Environment | None
    max_steps: int = DEFAULT_MAX_STEPS
    user: SimulatedUser | None = None
    attack: Attack | None = None
    user_model: dict | None = None  # who plays the user: {requested_model, provider, price_table}, for the ledger


async def run_episode(request: ChatRequest, task: Task, call: Caller, user_call: Caller | None = None) -> Episode:
    """Run the loop from `request` (the item's messages, with the tools). `user_call` plays the simulated user."""
    episode, messages = Episode(), list(request.messages)
    tools = {tool.name: tool for tool in task.tools}
    while await _turn(episode, task, tools, request, messages, call, user_call):
        pass
    if task.environment is not None:
        episode.state = task.environment.snapshot()
    if task.attack is not None:
        episode.attack_succeeded = bool(episode.attack_succeeded)
    return episode


async def _turn(episode: Episode, task: Task, tools: dict[str, Tool], request: ChatRequest, messages: list[Message],
                call: Caller, user_call: Caller | None) -> bool:
    """One model call and what follows it (its tool calls run, or the simulated user's reply); False at the end."""
    if _count(episode, "model") >= task.max_steps:
        episode.end = "max_steps"
        return False
    response = await _model_step(episode, call, replace(request, messages=tuple(messages)))
    if response is None:
        return False
    messages.append(step_message(episode.steps[-1]))
    if task.attack is not None and any(task.attack.succeeded_by(c.name, c.arguments) for c in response.tool_calls):
        episode.attack_succeeded = True
    if response.tool_calls and task.environment is None:  # single turn: the calls are the answer
        episode.invalid_calls += sum(_problem(c, tools) is not None for c in response.tool_calls)
        episode.end = "single_turn"
        return False
    if response.tool_calls:
        for tool_call in response.tool_calls:
            await _tool_step(episode, task, tools, tool_call)
            messages.append(step_message(episode.steps[-1]))
            if episode.end == "error":  # the environment broke: its state is gone, the episode cannot go on
                return False
        return True
    episode.final_text = response.text
    return await _user_turn(episode, task, request, messages, user_call)


async def _user_turn(episode: Episode, task: Task, request: ChatRequest, messages: list[Message],
                     user_call: Caller | None) -> bool:
    """The simulated user's reply to the agent's text answer; False when the conversation ends here."""
    if task.user is None or user_call is None or task.environment is None:
        return False
    if _count(episode, "user") >= task.user.max_turns:
        episode.end = "user_turns"
        return False
    reply = await _user_step(episode, user_call, request, task, messages)
    if reply is None or STOP in reply:
        episode.end = "user_stopped" if reply is not None else "error"
        return False
    messages.append(step_message(episode.steps[-1]))
    return True


async def _model_step(episode: Episode, call: Caller, request: ChatRequest) -> ChatResponse | None:
    started_at = now_utc_precise()
    try:
        answer = await call(request)
    except RunError as error:
        episode.steps.append({"kind": "model", "started_at": started_at, "span_id": _span_id(), "error": str(error),
                              "attempts": error.attempts, "tool_calls": [], **_usage_fields(None)})
        episode.end, episode.error = "error", str(error)
        return None
    response = answer.response
    episode.steps.append({"kind": "model", "started_at": started_at, "span_id": _span_id(), "text": response.text,
                          "tool_calls": [c.to_record() for c in response.tool_calls],
                          "finish_reason": response.finish_reason, "model": response.model or None,
                          "cost_usd": answer.cost_usd, "cached": answer.cached, "attempts": answer.attempts,
                          "reasoning": response.reasoning, **_usage_fields(response)})
    return response


async def _tool_step(episode: Episode, task: Task, tools: dict[str, Tool], tool_call: ToolCall) -> None:
    started_at, clock = now_utc_precise(), time.perf_counter()
    problem = _problem(tool_call, tools)
    status = "invalid" if problem else "ok"
    if problem:
        episode.invalid_calls += 1
        text = f"error: {problem}"
    else:
        try:
            text = result_text(await task.environment.call(tool_call.name, json.loads(tool_call.arguments or "{}")))
        except ToolFailed as error:
            status, text = "error", f"error: {error}"
            if isinstance(error, EnvironmentBroken):
                episode.end, episode.error = "error", str(error)
    state = task.environment.snapshot()
    episode.steps.append({"kind": "tool", "started_at": started_at, "latency_s": time.perf_counter() - clock,
                          "span_id": _span_id(), "id": tool_call.id, "name": tool_call.name,
                          "arguments": tool_call.arguments, "result": text, "status": status, "problem": problem,
                          "state_sha256": state_sha256(state)})


async def _user_step(episode: Episode, user_call: Caller, request: ChatRequest, task: Task,
                     messages: list[Message]) -> str | None:
    started_at = now_utc_precise()
    user_request = ChatRequest(model=request.model, messages=_as_user(task.user, messages),
                               max_tokens=request.max_tokens, temperature=request.temperature, seed=request.seed)
    try:
        answer = await user_call(user_request)
    except RunError as error:
        episode.steps.append({"kind": "user", "started_at": started_at, "span_id": _span_id(), "error": str(error),
                              **(task.user_model or {}), **_usage_fields(None)})
        episode.error = f"simulated user failed: {error}"
        return None
    episode.user_cost_usd += answer.cost_usd
    text = answer.response.text.strip()
    episode.steps.append({"kind": "user", "started_at": started_at, "span_id": _span_id(), "text": text,
                          "model": answer.response.model or None, "cost_usd": answer.cost_usd,
                          "cached": answer.cached, **(task.user_model or {}), **_usage_fields(answer.response)})
    return text


def _as_user(user: SimulatedUser, messages: list[Message]) -> tuple[Message, ...]:
    """The conversation as the simulated user sees it: its own lines as `assistant`, the agent's answers as `user`;
    system prompts and tool traffic are the agent's business."""
    seen = [Message("system", USER_SYSTEM.format(instructions=user.instructions))]
    for message in messages:
        if message.role == "user":
            seen.append(Message("assistant", message.content))
        elif message.role == "assistant" and message.content and not message.tool_calls:
            seen.append(Message("user", message.content))
    return tuple(seen)


def _problem(tool_call: ToolCall, tools: dict[str, Tool]) -> str | None:
    """Why a call cannot be run: an unknown tool, arguments that are not a JSON object, or break the schema."""
    tool = tools.get(tool_call.name)
    if tool is None:
        return f"unknown tool {tool_call.name!r}; the tools are {', '.join(tools)}"
    try:
        arguments = json.loads(tool_call.arguments or "{}")
    except ValueError:
        return f"the arguments of {tool_call.name} are not valid JSON"
    if not isinstance(arguments, dict):
        return f"the arguments of {tool_call.name} must be a JSON object"
    if tool.parameters:
        import jsonschema

        problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(tool.parameters).iter_errors(
            arguments))
        if problem is not None:
            where = "/".join(str(p) for p in problem.absolute_path) or "arguments"
            return f"{tool_call.name}: {where}: {problem.message}"
    return None


def _usage_fields(response: ChatResponse | None) -> dict:
    if response is None:
        return {"latency_s": None, "input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0, "cost_usd": 0.0}
    usage = response.usage
    return {"latency_s": response.latency_s, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "reasoning_tokens": usage.reasoning_tokens}


def _count(episode: Episode, kind: str) -> int:
    return sum(step["kind"] == kind for step in episode.steps)


def _span_id() -> str:
    return secrets.token_hex(8)

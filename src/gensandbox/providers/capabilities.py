"""What a model can honour, and what a request needs of it: the check that keeps anything an app sends from being
dropped on the way. Each provider declares its capabilities; a request that needs one the model lacks is refused
(or, on a route, sent to a model that has it). Pure functions; no I/O."""

from __future__ import annotations

import orjson

from gensandbox.types import ChatRequest

TOOLS = "tools"  # function tools, tool_choice auto/none, tool results in the conversation
REQUIRED_TOOL = "tool_choice=required"  # the model must call some tool
NAMED_TOOL = "tool_choice=function"  # the model must call the tool named
PARALLEL_TOOL_CALLS = "parallel_tool_calls"  # the app chose whether calls may come several at once
IMAGES = "images"
IMAGE_DETAIL = "image detail"  # OpenAI's low/high/auto resolution hint on an image part
MESSAGE_NAMES = "message names"  # a participant's name on a message
# Tools offered while the answer must be JSON: an API that makes structured output by forcing a tool of its own
# cannot also leave the model free to call the app's tools.
TOOLS_WITH_FORMAT = "tools with response_format"
# A former tool call's arguments that are not a JSON object: OpenAI's form carries them as any text, where an API
# that takes them as an object cannot carry them unchanged.
FREE_TEXT_ARGUMENTS = "tool call arguments that are not a JSON object"
JSON_OBJECT = "json_object"
JSON_SCHEMA = "json_schema"
LOGPROBS = "logprobs"
PENALTIES = "penalties"  # presence_penalty, frequency_penalty
TOP_P = "top_p"
SEED = "seed"
STOP = "stop"
REASONING_EFFORT = "reasoning_effort"
PASSTHROUGH = "passthrough"  # parameters GenSandbox does not interpret, sent on unchanged

EVERYTHING = frozenset({TOOLS, REQUIRED_TOOL, NAMED_TOOL, PARALLEL_TOOL_CALLS, IMAGES, IMAGE_DETAIL, MESSAGE_NAMES,
                        TOOLS_WITH_FORMAT, FREE_TEXT_ARGUMENTS, JSON_OBJECT, JSON_SCHEMA, LOGPROBS, PENALTIES,
                        TOP_P, SEED, STOP, REASONING_EFFORT, PASSTHROUGH})
TEXT_ONLY = frozenset({SEED, STOP})


def needs(request: ChatRequest) -> dict[str, str]:
    """Each capability the request needs, with the parameter (as the app named it) that needs it."""
    found: dict[str, str] = {}
    if request.tools or any(m.tool_calls or m.role == "tool" for m in request.messages):
        found[TOOLS] = "tools" if request.tools else "messages"
    choice = request.tool_choice
    if choice is not None and choice.mode == "required":
        found[REQUIRED_TOOL] = "tool_choice"
    if choice is not None and choice.mode == "function":
        found[NAMED_TOOL] = "tool_choice"
    if request.parallel_tool_calls is not None:
        found[PARALLEL_TOOL_CALLS] = "parallel_tool_calls"
    for index, message in enumerate(request.messages):
        if message.parts:  # on the gateway's path for every request: the cheap tests first
            images = message.images
            if images:
                found.setdefault(IMAGES, f"messages[{index}].content")
            if any(image.detail is not None for image in images):
                found.setdefault(IMAGE_DETAIL, f"messages[{index}].content")
        if message.name is not None:
            found.setdefault(MESSAGE_NAMES, f"messages[{index}].name")
        if message.tool_calls and not all(_json_object(call.arguments) for call in message.tool_calls):
            found.setdefault(FREE_TEXT_ARGUMENTS, f"messages[{index}].tool_calls")
    if request.response_format is not None and request.response_format.type != "text":
        found[request.response_format.type] = "response_format"
        if request.tools:
            found[TOOLS_WITH_FORMAT] = "response_format"
    if request.logprobs or request.top_logprobs is not None:
        found[LOGPROBS] = "logprobs" if request.logprobs else "top_logprobs"
    if request.presence_penalty is not None or request.frequency_penalty is not None:
        found[PENALTIES] = "presence_penalty" if request.presence_penalty is not None else "frequency_penalty"
    if request.top_p is not None:
        found[TOP_P] = "top_p"
    if request.seed is not None:
        found[SEED] = "seed"
    if request.stop:
        found[STOP] = "stop"
    if request.reasoning_effort is not None:
        found[REASONING_EFFORT] = "reasoning_effort"
    if request.passthrough:
        found[PASSTHROUGH] = next(iter(request.passthrough))
    return found


def _json_object(arguments: str) -> bool:
    """Whether tool call arguments are a JSON object (no arguments at all are the empty one)."""
    if not arguments:
        return True
    try:
        return isinstance(orjson.loads(arguments), dict)
    except orjson.JSONDecodeError:
        return False


def unsupported(needed: dict[str, str], capabilities: frozenset[str]) -> tuple[str, str] | None:
    """The first (capability, parameter) of those `needs` found that the model cannot honour, or None."""
    for capability, parameter in needed.items():
        if capability not in capabilities:
            return capability, parameter
    return None

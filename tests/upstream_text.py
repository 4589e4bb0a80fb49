"""What both halves of the scripted upstream (tests/upstream.py: OpenAI's wire; tests/upstream_anthropic.py:
Anthropic's) read from a request and how they frame a streamed event."""

from __future__ import annotations

import json

REASONING = "Let me think step by step about what was asked."
REASONING_WORDS = len(REASONING.split())


def last_user_text(messages: list[dict]) -> str:
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def text_of(content) -> str:
    """A message's text; an image part reads as [image:URL-prefix], so a test can see the image arrived."""
    if isinstance(content, str) or content is None:
        return content or ""
    pieces = []
    for part in content:
        if part.get("type") == "text":
            pieces.append(part.get("text") or "")
        elif part.get("type") == "image_url":
            pieces.append(f"[image:{(part.get('image_url') or {}).get('url', '')[:20]}]")
        elif part.get("type") == "image":  # Anthropic's image block
            source = part.get("source") or {}
            pieces.append(f"[image:{(source.get('url') or source.get('media_type') or '')[:20]}]")
        elif part.get("type") == "tool_result":
            pieces.append(text_of(part.get("content")))
    return "".join(pieces)


def sse(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"

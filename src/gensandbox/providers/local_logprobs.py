"""Log-probabilities of a local model's answer, in OpenAI's chat form.

llama-cpp-python computes logprobs only for a model loaded with logits_all, which keeps a float per vocabulary entry
per context position (2.5 GB for Qwen's 152k vocabulary at n_ctx 4096) and evaluates the whole prompt's logits. A
logits processor sees the same distribution one step at a time for free: it is called before each token is sampled,
with the tokens evaluated so far, so the token chosen at one step is known at the next. The last step's token is
never evaluated; it is the rest of the answer's text when that is one token (an end-of-sequence token is no text and
has no entry, as in OpenAI's answers). The logprobs are the model's own, before temperature, top_p, penalties or
a grammar shape the sampling (OpenAI's are the model's too)."""

from __future__ import annotations

import numpy as np


class LogprobRecorder:
    """A logits processor (llama_cpp.LogitsProcessorList) that records each step's distribution."""

    def __init__(self, llama, top: int):
        self.llama, self.top = llama, top
        self.entries: list[dict] = []  # one per settled token, in OpenAI's form
        self._pending: np.ndarray | None = None  # the last step's log-probabilities, its token not yet known
        self._sent = 0  # entries handed out by `settled`
        self._bytes = 0  # bytes of the settled tokens' text

    def __call__(self, input_ids, scores):
        if self._pending is not None:
            self._settle(int(input_ids[-1]))
        shifted = scores.astype(np.float64) - np.max(scores)
        self._pending = shifted - np.log(np.exp(shifted).sum())
        return scores

    def settled(self) -> list[dict]:
        """The entries settled since the last call (a stream sends them as they come: one token after its text)."""
        fresh, self._sent = self.entries[self._sent:], len(self.entries)
        return fresh

    def finish(self, text: str) -> list[dict]:
        """All entries for an answer whose text is `text` (cut where a stop sequence cut it), the last step's token
        included when the rest of the text is that one token."""
        encoded = text.encode("utf-8")
        rest = encoded[self._bytes:] if encoded.startswith(self._whole()) else b""
        if rest and self._pending is not None:
            tokens = self.llama.tokenize(rest, add_bos=False, special=True)
            if len(tokens) == 1:
                self._settle(tokens[0])
        self._pending = None
        kept, length = [], 0
        for entry in self.entries:  # tokens past a stop sequence were generated but are not the answer's
            if length >= len(encoded):
                break
            kept.append(entry)
            length += len(entry["bytes"])
        self.entries = kept
        return self.entries

    def _whole(self) -> bytes:
        return b"".join(bytes(entry["bytes"]) for entry in self.entries)

    def _settle(self, token: int) -> None:
        logprobs, self._pending = self._pending, None
        entry = self._entry(token, logprobs)
        if not entry["bytes"]:  # end of sequence or another control token: no text, no entry
            return
        self._bytes += len(entry["bytes"])
        best = np.argpartition(-logprobs, self.top)[:self.top] if self.top else []
        best = sorted(best, key=lambda candidate: -logprobs[candidate])
        entry["top_logprobs"] = [self._entry(int(candidate), logprobs) for candidate in best]
        self.entries.append(entry)

    def _entry(self, token: int, logprobs: np.ndarray) -> dict:
        piece = self.llama.detokenize([token])
        return {"token": piece.decode("utf-8", errors="replace"), "logprob": float(logprobs[token]),
                "bytes": list(piece)}


def chat_logprobs(entries: list[dict]) -> dict:
    return {"content": entries, "refusal": None}

"""Text to vectors for retrieval: the embedded GGUF through llama.cpp (with a lexical half), or any
OpenAI-compatible `/v1/embeddings` endpoint. Wire conversion is pure functions; every vector comes back
L2-normalised, so a dot product is the cosine similarity."""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np

from gensandbox.errors import MissingDependencyError, NotFoundError, ProviderResponseError
from gensandbox.providers._http import HTTPEndpoint

LOCAL_EMBEDDING_MODEL = "local/qwen2.5-coder-0.5b-instruct"  # `embedding = "local"`
# Tokens one text may have; longer ones are cut (llama.cpp embeds a text in one batch). Passages are
# `chunk_chars` characters, and even Hangul rarely takes more than one token per character.
LOCAL_EMBEDDING_TOKENS = 2048
LOCAL_BATCH, REMOTE_BATCH = 16, 64  # texts per call: small locally, so chat calls get the CPU in between
LEXICAL_DIMENSIONS = 2048
LEXICAL_WEIGHT = 0.5  # of the local embedder's similarity that comes from shared character pairs


class Embedder(Protocol):
    identity: dict  # what the vectors depend on: part of the on-disk index's key

    async def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...

    async def aclose(self) -> None: ...


def normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def lexical_vectors(texts: list[str]) -> np.ndarray:
    """Character-bigram counts (lower-cased, pairs across a space left out) hashed into fixed dimensions and
    normalised: what words a text shares with another, Hangul syllables included."""
    rows = np.zeros((len(texts), LEXICAL_DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        text = " ".join(text.lower().split())
        for index in range(len(text) - 1):
            pair = text[index:index + 2]
            if " " not in pair:
                rows[row, zlib.crc32(pair.encode()) % LEXICAL_DIMENSIONS] += 1.0
    return normalised(rows)


def hybrid(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """One vector whose dot product with another is (1 - w)·dense cosine + w·lexical cosine."""
    return np.hstack([np.sqrt(1 - LEXICAL_WEIGHT) * dense, np.sqrt(LEXICAL_WEIGHT) * lexical]).astype(np.float32)


def embeddings_request(model: str, texts: list[str]) -> dict:
    return {"model": model, "input": texts}


def vectors_from_openai(body: dict, expected: int) -> list[list[float]]:
    """The vectors of an OpenAI embeddings answer, in the order of the inputs."""
    try:
        data = sorted(body["data"], key=lambda entry: entry["index"])
        vectors = [[float(x) for x in entry["embedding"]] for entry in data]
    except (KeyError, TypeError, ValueError) as error:
        raise ProviderResponseError(f"not an OpenAI embeddings answer: missing or bad {error}") from None
    if len(vectors) != expected or len({len(v) for v in vectors}) > 1:
        raise ProviderResponseError(f"the embeddings answer has {len(vectors)} vectors of mixed or wrong shape "
                                    f"for {expected} texts")
    return vectors


class OpenAIEmbedder(HTTPEndpoint):
    def __init__(self, base_url: str, model: str, api_key: str | None, *, timeout_s: float = 120.0):
        super().__init__(base_url, api_key, timeout_s=timeout_s)
        self.model = model
        self.identity = {"provider": "openai", "endpoint": self.base_url, "model": model}

    async def embed(self, texts: list[str]) -> np.ndarray:
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        rows: list[list[float]] = []
        for start in range(0, len(texts), REMOTE_BATCH):
            batch = texts[start:start + REMOTE_BATCH]
            body, _ = await self.post("/embeddings", embeddings_request(self.model, batch), headers)
            rows += vectors_from_openai(body, len(batch))
        return normalised(np.asarray(rows, dtype=np.float32))


class LocalEmbedder:
    """A GGUF in its own llama.cpp instance in embedding mode (mean pooling over the tokens), separate from
    any chat instance of the same file. Runs on the local provider's one inference thread (see local.py).

    A small chat model's mean-pooled states mostly say which language a text is in: on 20 Korean and English
    questions over 11 short documents they found the right one for 12; half lexical similarity (shared
    character pairs) beside them found 16, every miss a question in the other language or a paraphrase."""

    def __init__(self, path: Path, gguf_sha256: str):
        self.path = path
        self.identity = {"provider": "local", "gguf_sha256": gguf_sha256, "pooling": "mean",
                         "lexical": {"weight": LEXICAL_WEIGHT, "dimensions": LEXICAL_DIMENSIONS}}

    async def embed(self, texts: list[str]) -> np.ndarray:
        from gensandbox.providers.local import inference_thread

        loop = asyncio.get_running_loop()
        rows: list[list[float]] = []
        for start in range(0, len(texts), LOCAL_BATCH):
            rows += await loop.run_in_executor(inference_thread, self.embed_blocking, texts[start:start + LOCAL_BATCH])
        return hybrid(normalised(np.asarray(rows, dtype=np.float32)), lexical_vectors(texts))

    def embed_blocking(self, texts: list[str]) -> list[list[float]]:
        try:
            return _load(self.path).embed(texts, truncate=True)
        except (ValueError, RuntimeError) as error:
            raise ProviderResponseError(f"llama.cpp could not embed: {error}") from None

    async def aclose(self) -> None:
        """The loaded model stays cached for the process, as chat models do."""


_loaded: dict[Path, object] = {}
_loading = threading.Lock()
# Freed while llama_cpp is still whole: left to interpreter shutdown, its destructor meets half-torn-down modules.
atexit.register(_loaded.clear)


def _load(path: Path):
    with _loading:
        if path not in _loaded:
            _loaded[path] = _new_llama(path)
        return _loaded[path]


def _new_llama(path: Path):
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError("local embeddings need llama-cpp-python; run: pip install 'gensandbox[local]'") \
            from None
    from gensandbox.providers.local import route_llama_logs

    route_llama_logs(llama_cpp)
    try:
        return llama_cpp.Llama(model_path=str(path), embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                               n_ctx=LOCAL_EMBEDDING_TOKENS, n_batch=LOCAL_EMBEDDING_TOKENS,
                               n_ubatch=LOCAL_EMBEDDING_TOKENS, n_threads=os.cpu_count() or 1, verbose=False)
    except ValueError as error:
        raise NotFoundError(f"{path} is not a GGUF model llama.cpp can load: {error}") from None

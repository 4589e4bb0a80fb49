"""Retrieval over a folder of the user's documents: passages, their vectors in an index on disk, and the
passages nearest to a question.

The index lives in GENSANDBOX_HOME/indexes/<key>/ (vectors.npy + chunks.json), where the key hashes the
documents' digest, the embedding model's identity and the passage size: it is built once and rebuilt
only when one of those changes. Search is brute-force cosine similarity with numpy: a few thousand
passages score in well under a millisecond, so an approximate index would add a dependency for nothing
at the folder sizes a variant is meant for.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gensandbox.canonical import canonical_digest
from gensandbox.config import RetrievalConfig
from gensandbox.variants.documents import (
    Document,
    Passage,
    document_text,
    documents_digest,
    read_documents,
    split_passages,
)
from gensandbox.variants.embeddings import Embedder

INDEX_FORMAT = 1  # bump when the files' layout changes: old indexes are then rebuilt, never misread


@dataclass(frozen=True)
class VectorIndex:
    passages: list[Passage]
    vectors: np.ndarray  # one L2-normalised row per passage


def index_key(digest: str, embedding_identity: dict, chunk_chars: int) -> str:
    return canonical_digest({"documents": digest, "embedding": embedding_identity, "chunk_chars": chunk_chars,
                             "format": INDEX_FORMAT})[:24]


def nearest(index: VectorIndex, query: np.ndarray, top_k: int, min_score: float | None = None) -> list[Passage]:
    """The `top_k` passages most similar to `query` (a normalised vector), best first."""
    if not index.passages:
        return []
    scores = index.vectors @ query.astype(np.float32)
    order = np.argsort(-scores, kind="stable")[:top_k]
    found = [Passage(index.passages[i].source, index.passages[i].text, float(scores[i])) for i in order]
    return [p for p in found if min_score is None or p.score >= min_score]


def save_index(directory: Path, index: VectorIndex) -> None:
    """Written beside the final place and renamed into it, so a reader never sees half an index."""
    partial = directory.with_name(f"{directory.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    np.save(partial / "vectors.npy", index.vectors)
    chunks = [{"source": p.source, "text": p.text} for p in index.passages]
    (partial / "chunks.json").write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
    try:
        partial.rename(directory)
    except OSError:  # another process finished the same index first: theirs is identical
        shutil.rmtree(partial, ignore_errors=True)


def load_index(directory: Path) -> VectorIndex | None:
    try:
        chunks = json.loads((directory / "chunks.json").read_text(encoding="utf-8"))
        vectors = np.load(directory / "vectors.npy")
    except (OSError, ValueError):
        return None
    return VectorIndex([Passage(c["source"], c["text"]) for c in chunks], vectors)


class Retriever:
    """The passages for a question, from an index built on first use (once, however many calls ask).

    The documents are read when the retriever is made, not at the first question, so an unreadable file is
    a one-line error before any call (and an index already on disk spares parsing them again)."""

    def __init__(self, folder: Path, settings: RetrievalConfig, embedder: Embedder, index_root: Path):
        self.settings, self.embedder = settings, embedder
        documents = read_documents(folder)
        self.directory = index_root / index_key(documents_digest(documents), embedder.identity, settings.chunk_chars)
        self._documents = documents
        self._to_embed = None if load_index(self.directory) else passages_of(documents, settings.chunk_chars)
        self._building: asyncio.Task | None = None

    async def passages(self, question: str) -> list[Passage]:
        index = await self.index()
        query = (await self.embedder.embed([question]))[0]
        return nearest(index, query, self.settings.top_k, self.settings.min_score)

    async def index(self) -> VectorIndex:
        # Shielded: a call that times out while the index is being built leaves the build running for the next.
        if self._building is None:
            self._building = asyncio.ensure_future(self._load_or_build())
        try:
            return await asyncio.shield(self._building)
        except Exception:
            if self._building.done():
                self._building = None  # a failed build (e.g. the endpoint was down) is tried again next time
            raise

    async def _load_or_build(self) -> VectorIndex:
        if self._to_embed is None and (index := load_index(self.directory)) is not None:
            return index
        passages = self._to_embed if self._to_embed is not None else passages_of(self._documents,
                                                                                  self.settings.chunk_chars)
        vectors = await self.embedder.embed([p.text for p in passages]) if passages else np.zeros((0, 1), np.float32)
        index = VectorIndex(passages, vectors)
        save_index(self.directory, index)
        return index

    async def aclose(self) -> None:
        await self.embedder.aclose()


def passages_of(documents: list[Document], chunk_chars: int) -> list[Passage]:
    return [Passage(d.path, text) for d in documents for text in split_passages(document_text(d), chunk_chars)]

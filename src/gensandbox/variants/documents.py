"""The user's documents for retrieval: which files, their digest, their text, and passages cut from it.

The digest covers each file's path relative to the folder and its bytes, never an absolute path or a
modification time, so the same documents give the same digest on any machine (a variant's version
depends on it). Everything here but `read_documents` is a pure function.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from gensandbox.errors import NotFoundError, UserError

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
DOCUMENT_SUFFIXES = (*TEXT_SUFFIXES, ".pdf")
_HEADING = re.compile(r"^#{1,6}\s")
# Where a long paragraph may be cut: after a sentence end or a line break (Korean sentences end in "." too).
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n")


@dataclass(frozen=True)
class Document:
    path: str  # relative to the folder, with forward slashes
    data: bytes


@dataclass(frozen=True)
class Passage:
    source: str  # the document's relative path
    text: str
    score: float = 0.0


def read_documents(folder: Path) -> list[Document]:
    """Every Markdown, text and PDF file under `folder` (hidden ones skipped), in path order."""
    if not folder.is_dir():
        raise NotFoundError(f"documents folder {folder} not found; create it or fix `retrieval.folder`")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise UserError(f"no documents in {folder}: add .md, .txt or .pdf files")
    return [Document(p.relative_to(folder).as_posix(), p.read_bytes()) for p in files]


def documents_digest(documents: list[Document]) -> str:
    """sha256 over each document's relative path and the sha256 of its bytes."""
    listing = sorted([d.path, hashlib.sha256(d.data).hexdigest()] for d in documents)
    return hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()


def document_text(document: Document) -> str:
    if document.path.lower().endswith(".pdf"):
        return pdf_text(document.data, document.path)
    return document.data.decode("utf-8", errors="replace")


def pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader

    try:
        return "\n\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    except Exception as error:  # pypdf fails on damaged files in many ways (its own errors, KeyError, struct.error…)
        raise UserError(f"cannot read the PDF {name}: {type(error).__name__}: {error}") from None


def split_passages(text: str, chunk_chars: int) -> list[str]:
    """Passages of at most `chunk_chars` characters: paragraphs are kept whole and joined while they fit;
    a Markdown heading starts a new passage (and stays with what follows it); a paragraph longer than
    the limit is cut at sentence ends."""
    passages: list[str] = []
    current = ""
    for block in _blocks(text):
        for piece in _fit(block, chunk_chars):
            joined = f"{current}\n\n{piece}" if current else piece
            if current and (_HEADING.match(piece) or len(joined) > chunk_chars):
                passages.append(current)
                joined = piece
            current = joined
    if current:
        passages.append(current)
    return passages


def _blocks(text: str) -> list[str]:
    """Paragraphs (split at blank lines), with each heading line its own block."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines: list[str] = []
        for line in paragraph.strip().split("\n"):
            if _HEADING.match(line) and lines:
                blocks.append("\n".join(lines))
                lines = []
            lines.append(line)
        if any(line.strip() for line in lines):
            blocks.append("\n".join(lines).strip())
    return blocks


def _fit(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    pieces, current = [], ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(block) if s and s.strip()):
        while len(sentence) > limit:  # no sentence end in sight: cut hard
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        joined = f"{current} {sentence}" if current else sentence
        if len(joined) > limit:
            pieces.append(current)
            joined = sentence
        current = joined
    return [*pieces, current] if current else pieces

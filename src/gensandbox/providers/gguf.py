"""One string from a GGUF file's header, read without loading the model.

A provider declares its capabilities when it is built (wrappers copy them then), and whether a local model can take
tools depends on its chat template, which lives in the header. Loading the model for that would cost a second and
hundreds of megabytes; reading the header costs milliseconds and needs no llama.cpp."""

from __future__ import annotations

import functools
import mmap
import struct
from pathlib import Path

_STRING, _ARRAY = 8, 9
_FIXED_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # GGUF value type -> bytes


def chat_template(path: Path) -> str | None:
    """The file's `tokenizer.chat_template`, or None (a base model, or not a GGUF file)."""
    stat = path.stat()
    return _header_string(str(path.resolve()), stat.st_size, stat.st_mtime_ns, "tokenizer.chat_template")


@functools.lru_cache(maxsize=32)
def _header_string(path: str, _size: int, _mtime_ns: int, wanted: str) -> str | None:
    """Cached by size and mtime too, so a file replaced in place is read again."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"GGUF":
            return None
        (kv_count,) = struct.unpack_from("<Q", data, 16)  # after magic, version (u32) and tensor count (u64)
        offset = 24
        for _ in range(kv_count):
            key, offset = _string(data, offset)
            (value_type,) = struct.unpack_from("<I", data, offset)
            offset += 4
            if key == wanted and value_type == _STRING:
                return _string(data, offset)[0]
            offset = _skip(data, offset, value_type)
    return None


def _string(data, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<Q", data, offset)
    start = offset + 8
    return data[start:start + length].decode("utf-8", errors="replace"), start + length


def _skip(data, offset: int, value_type: int) -> int:
    """The offset just past a value of this type (arrays of strings, e.g. the vocabulary, one length at a time)."""
    if value_type == _STRING:
        (length,) = struct.unpack_from("<Q", data, offset)
        return offset + 8 + length
    if value_type == _ARRAY:
        element_type, count = struct.unpack_from("<IQ", data, offset)
        offset += 12
        if element_type in _FIXED_SIZES:
            return offset + count * _FIXED_SIZES[element_type]
        for _ in range(count):
            offset = _skip(data, offset, element_type)
        return offset
    return offset + _FIXED_SIZES[value_type]

"""One digest scheme for every version and run id: SHA-256, shown as its first 12 hex digits.

Data versions (:func:`matcher.ingest.dataset.data_version`), weight digests and the run ids of
``shortlist`` and ``schedule`` all come from here, so the same bytes always give the same id.

Examples
--------
>>> digest_bytes(b"abc")
'ba7816bf8f01'
>>> digest_bytes([b"a", b"bc"]) == digest_bytes(b"abc")  # chunks digest as if joined
True
>>> digest_json({"b": 1, "a": 0.5}) == digest_json({"a": 0.5, "b": 1})
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Hex digits kept of a digest (48 bits: collisions are negligible among a planner's files).
DIGEST_LENGTH = 12
_BLOCK = 1 << 20


def digest_bytes(data: bytes | Iterable[bytes]) -> str:
    """Digest of ``data``, or of the chunks of an iterable in order (as if joined; a generator streams)."""
    digest = hashlib.sha256()
    if isinstance(data, (bytes, bytearray, memoryview)):
        digest.update(data)
    else:
        for chunk in data:
            digest.update(chunk)
    return digest.hexdigest()[:DIGEST_LENGTH]


def digest_file(path: str | Path) -> str:
    """Digest of a file's bytes, read in blocks (equal to ``digest_bytes(path.read_bytes())``)."""
    return digest_bytes(file_blocks(path))


def file_blocks(path: str | Path, size: int = _BLOCK) -> Iterable[bytes]:
    """A file's bytes in blocks, so that a large file is digested without holding it in memory."""
    with open(path, "rb") as handle:
        while block := handle.read(size):
            yield block


def digest_json(obj: Any) -> str:
    """Digest of ``obj`` as JSON with sorted keys: equal mappings give equal digests."""
    return digest_bytes(json.dumps(obj, sort_keys=True).encode())


def digest_inputs(paths: Iterable[str | Path | None], args: Iterable[str]) -> str:
    """A run id from the input files' bytes (in order; ``None`` skipped) and the arguments."""

    def chunks() -> Iterable[bytes]:
        for path in paths:
            if path:
                yield from file_blocks(path)
        yield "\0".join(args).encode()

    return digest_bytes(chunks())

"""A start-up snapshot of a Chroma question collection, so a restart does not read 20,000 records back.

Only for the embedded (persistent) Chroma of one data dir. Every write to the collection, by any Warmdesk
process, bumps a generation marker next to it; a snapshot is used only when it was taken at the current
generation, so it can never hide a change. Chroma stays the store; the snapshot is a disposable cache.
It is not used either when Chroma's database file is gone or no longer SQLite, so a damaged index shows
(and is rebuilt) at start-up instead of at the first write.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

from knowledge.entry import FaqEntry

_SQLITE_HEADER = b"SQLite format 3\x00"


class IndexSnapshot:
    def __init__(self, directory: Path, collection: str) -> None:
        self._chroma_database = directory / "chroma.sqlite3"
        self._marker = directory / f"{collection}.generation"
        self._file = directory / f"{collection}.snapshot.npz"

    def generation(self) -> str:
        """The current generation, created on first use."""
        try:
            return self._marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return self.bump()

    def bump(self) -> str:
        generation = uuid.uuid4().hex
        _write_atomically(self._marker, generation.encode())
        return generation

    def read(self, generation: str) -> list[tuple[FaqEntry, str, np.ndarray, list[list[str]]]] | None:
        """(entry, content hash, vectors, tokens) per entry, or None when there is no valid snapshot."""
        if not self._chroma_database_looks_intact():
            return None
        try:
            with np.load(self._file) as data:
                if str(data["generation"]) != generation:
                    return None
                vectors, header = data["vectors"], json.loads(bytes(data["header"]).decode("utf-8"))
        except (OSError, KeyError, ValueError):
            return None
        items, start = [], 0
        for fields, content_hash, tokens in header:
            count = len(fields["questions"])
            items.append((FaqEntry(**fields), content_hash, vectors[start : start + count], tokens))
            start += count
        return items

    def _chroma_database_looks_intact(self) -> bool:
        try:
            with self._chroma_database.open("rb") as database:
                return database.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
        except OSError:
            return False

    def write(self, generation: str, items: list[tuple[FaqEntry, str, np.ndarray, list[list[str]]]]) -> None:
        header = [[entry.fields(), content_hash, tokens] for entry, content_hash, _, tokens in items]
        vectors = [v for _, _, v, _ in items]
        dim = vectors[0].shape[1] if vectors else 0
        buffer = self._file.with_suffix(".tmp.npz")
        np.savez(
            buffer,
            generation=np.array(generation),
            vectors=np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32),
            header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        )
        os.replace(buffer, self._file)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

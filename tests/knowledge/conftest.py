from __future__ import annotations

import numpy as np
import pytest

from knowledge.embedder import shared_embedder
from knowledge.entry import FaqEntry


class CountingEmbedder:
    """The real embedder, counting how many KB questions it was asked to embed.

    Vectors are memoised for the whole test session (by prefix and text), so that the many small KBs the
    tests build cost one model call per distinct text; the counting still sees every request.
    """

    dim = 384

    def __init__(self, memo: dict[tuple[str, str], np.ndarray]) -> None:
        self._inner = shared_embedder()
        self._memo = memo
        self.embedded: list[str] = []

    def query(self, text):
        return self._lookup("query", [text])[0]

    def queries(self, texts):
        self.embedded.extend(texts)
        return self._lookup("query", texts)

    def passages(self, texts):
        self.embedded.extend(texts)
        return self._lookup("passage", texts)

    def _lookup(self, kind: str, texts) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._memo))
        if missing:
            compute = self._inner.queries if kind == "query" else self._inner.passages
            for text, vector in zip(missing, compute(missing), strict=True):
                self._memo[(kind, text)] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[(kind, t)] for t in texts])


@pytest.fixture(scope="session")
def vector_memo() -> dict[tuple[str, str], np.ndarray]:
    return {}


@pytest.fixture
def embedder(vector_memo) -> CountingEmbedder:
    return CountingEmbedder(vector_memo)


@pytest.fixture
def faq() -> list[FaqEntry]:
    return [
        FaqEntry(
            "reset-password",
            ["How do I reset my password?", "I forgot my password", "忘记密码怎么办"],
            answer_en="Use 'Forgot password' on the login page.",
            answer_zh="在登录页点击“忘记密码”。",
        ),
        FaqEntry(
            "refund",
            ["How do I get a refund?", "I want my money back", "怎么申请退款"],
            answer_en="Refunds are in Orders > Refund.",
            answer_zh="在订单页面申请退款。",
        ),
        FaqEntry(
            "shipping-time",
            ["How long does delivery take?", "When will my parcel arrive?", "快递多久能到"],
            answer="3-5 working days.",
        ),
        FaqEntry(
            "opening-hours",
            ["What are your opening hours?", "When is customer service open?", "客服几点上班"],
            answer="9:00-18:00, Monday to Friday.",
        ),
        FaqEntry(
            "change-address",
            ["How do I change my delivery address?", "Update shipping address", "怎么修改收货地址"],
            answer="Edit it in Account > Addresses before the order ships.",
        ),
    ]

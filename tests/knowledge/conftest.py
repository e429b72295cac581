from __future__ import annotations

import pytest

from knowledge.embedder import shared_embedder
from knowledge.entry import FaqEntry


class CountingEmbedder:
    """The real embedder, counting how many KB questions it was asked to embed."""

    dim = 384

    def __init__(self) -> None:
        self._inner = shared_embedder()
        self.embedded: list[str] = []

    def query(self, text):
        return self._inner.query(text)

    def queries(self, texts):
        self.embedded.extend(texts)
        return self._inner.queries(texts)

    def passages(self, texts):
        self.embedded.extend(texts)
        return self._inner.passages(texts)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


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

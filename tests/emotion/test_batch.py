from __future__ import annotations

import json

import numpy as np
import pytest

from bot.emotion.base import EmotionTag
from bot.emotion.batch import BatchInputError, tag_batch


class LengthTagger:
    """Stand-in tagger: anger for long texts, records whether it was given a vector."""

    def __init__(self) -> None:
        self.vectors: list[object] = []

    def tag(self, text, embedding=None, context=None):
        self.vectors.append(embedding)
        return EmotionTag("anger" if len(text) > 5 else "neutral", 0.5, ("test",))


def test_batch_keeps_order_and_fields(tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [{"text": "hello", "id": 1}, {"text": "我要投诉你们！！！"}, {"text": ""}, {"text": "ok"}]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"

    assert tag_batch(LengthTagger(), source, target) == 4

    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in out] == ["hello", "我要投诉你们！！！", "", "ok"]
    assert all(set(r) == {"text", "emotion", "intensity", "signals"} for r in out)
    assert out[1]["emotion"] == "anger" and out[1]["signals"] == ["test"]


def test_batch_embeds_in_chunks_when_given_an_embedder(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": f"message {i}"}) + "\n" for i in range(70)), encoding="utf-8")
    chunks: list[int] = []

    def embed_many(texts):
        chunks.append(len(texts))
        return np.zeros((len(texts), 384), dtype=np.float32)

    tagger = LengthTagger()
    tag_batch(tagger, source, tmp_path / "out.jsonl", embed_many)
    assert chunks == [64, 6]
    assert all(v is not None for v in tagger.vectors)


def test_lines_without_text_are_reported_by_number_and_nothing_is_written(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "fine"}\n\n{"other": 1}\nnot json\n[1]\n{"text": null}\n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    with pytest.raises(BatchInputError) as raised:
        tag_batch(LengthTagger(), source, target)
    assert [number for number, _ in raised.value.problems] == [3, 4, 5, 6]
    assert not target.exists()

"""Tag a JSONL file of messages: each input line's "text" in, one {"text","emotion","intensity","signals"} out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from bot.emotion.base import EmotionTagger

BATCH_SIZE = 64
EmbedMany = Callable[[Sequence[str]], np.ndarray]


def _texts(in_path: Path) -> Iterator[str]:
    """The "text" of every non-blank line, in order; a missing, null or non-string text becomes ""."""
    with Path(in_path).open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = {}
            text = row.get("text") if isinstance(row, dict) else None
            yield text if isinstance(text, str) else ""


def _chunks(texts: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def tag_batch(
    tagger: EmotionTagger, in_path: Path | str, out_path: Path | str, embed_many: EmbedMany | None = None
) -> int:
    """Tag every line of `in_path` into `out_path` in the same order; returns the number of rows written.

    `embed_many` (e.g. `Embedder().queries`) embeds a chunk of texts at once; without it the tagger
    embeds each text itself.
    """
    written = 0
    with Path(out_path).open("w", encoding="utf-8") as out:
        for chunk in _chunks(_texts(Path(in_path)), BATCH_SIZE):
            vectors: Sequence[np.ndarray | None] = embed_many(chunk) if embed_many else [None] * len(chunk)
            for text, vector in zip(chunk, vectors, strict=True):
                tag = tagger.tag(text, vector)
                row = {"text": text, "emotion": tag.label, "intensity": tag.intensity, "signals": list(tag.signals)}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    return written

"""Tag a JSONL file of messages: each input line's "text" in, one {"text","emotion","intensity","signals"} out."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from bot.emotion.base import EmotionTagger

BATCH_SIZE = 64
EmbedMany = Callable[[Sequence[str]], np.ndarray]


class BatchInputError(ValueError):
    """Lines of the input that hold no text to tag, as (line number, problem); nothing was written."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} bad line(s)")
        self.problems = problems


def read_texts(in_path: Path) -> list[str]:
    """The "text" of every non-blank line, in order; any line without one is reported by number, not guessed."""
    texts: list[str] = []
    problems: list[tuple[int, str]] = []
    with Path(in_path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append((number, f"not JSON ({error.msg})"))
                continue
            text = row.get("text") if isinstance(row, dict) else None
            if not isinstance(text, str):
                problems.append((number, 'no "text" string'))
                continue
            texts.append(text)
    if problems:
        raise BatchInputError(problems)
    return texts


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
    Raises `BatchInputError` (writing nothing) when a line holds no text.

    `embed_many` (e.g. `Embedder().queries`) embeds a chunk of texts at once; without it the tagger
    embeds each text itself.
    """
    texts = read_texts(Path(in_path))  # before the output is opened: a bad input leaves no half-written file
    written = 0
    with Path(out_path).open("w", encoding="utf-8") as out:
        for chunk in _chunks(iter(texts), BATCH_SIZE):
            vectors: Sequence[np.ndarray | None] = embed_many(chunk) if embed_many else [None] * len(chunk)
            for text, vector in zip(chunk, vectors, strict=True):
                tag = tagger.tag(text, vector)
                row = {"text": text, "emotion": tag.label, "intensity": tag.intensity, "signals": list(tag.signals)}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    return written

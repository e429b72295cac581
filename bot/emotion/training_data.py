"""Licence-clean training rows: GoEmotions dev (Apache-2.0, Demszky et al. 2020) and our written examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.emotion.base import LABELS

GOEMOTIONS_PATH = Path("/work/shared/bench/goemotions_emotion.jsonl")
WRITTEN_PATH = Path(__file__).resolve().parent / "data" / "written_examples.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    label: str
    lang: str
    source: str


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_goemotions(path: Path = GOEMOTIONS_PATH) -> list[LabelledText]:
    """GoEmotions rows mapped to the five labels; rows whose target is `other` are left out."""
    return [
        LabelledText(row["text"], row["target"], row.get("lang", "en"), "goemotions")
        for row in _jsonl(path)
        if row["target"] in LABELS
    ]


def load_written(path: Path = WRITTEN_PATH) -> list[LabelledText]:
    """Customer-service examples written by the Warmdesk team (zh and en)."""
    rows = [LabelledText(row["text"], row["label"], row["lang"], "written") for row in _jsonl(path)]
    unknown = {row.label for row in rows} - set(LABELS)
    if unknown:
        raise ValueError(f"unknown labels in {path}: {sorted(unknown)}")
    return rows

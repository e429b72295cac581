"""Rebuild the shipped emotion model: `python -m bot.emotion.train` (add `--cv` for GoEmotions 5-fold scores).

Training data (licence-clean only):
- GoEmotions dev split (Apache-2.0, Demszky et al. 2020), mapped to the five labels; rows whose only
  strong emotion is disgust are added as anger examples (they are not scored by the benchmark);
- bot/emotion/data/written_examples.jsonl, customer-service messages written by the Warmdesk team.
Evaluation-only sets (SMP2020, CLUE, complaints, USS) are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.emotion.base import LABELS
from bot.emotion.cues import extract_cues
from bot.emotion.model import MODEL_PATH, LinearEmotionModel
from bot.emotion.training_data import GOEMOTIONS_PATH, WRITTEN_PATH, LabelledText, load_goemotions, load_written

REGULARISATION_C = 1.0
WRITTEN_WEIGHT = 6.0
CUE_SCALE = 1.0
CV_FOLDS = 5
SEED = 0


@dataclass(frozen=True, slots=True)
class TrainingSet:
    features: np.ndarray  # (n, 384 + cues)
    labels: np.ndarray  # (n,) indices into LABELS
    weights: np.ndarray  # (n,)
    scored: np.ndarray  # (n,) True for GoEmotions rows the benchmark scores


def _disgust_as_anger(path: Path) -> list[LabelledText]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["target"] == "other" and "disgust" in row["labels"]:
                rows.append(LabelledText(row["text"], "anger", row.get("lang", "en"), "goemotions-disgust"))
    return rows


def build_training_set(goemotions_path: Path = GOEMOTIONS_PATH, written_path: Path = WRITTEN_PATH) -> TrainingSet:
    from bot.emotion.embedding_cache import cached_query_embeddings

    scored_rows = load_goemotions(goemotions_path)
    extra_rows = _disgust_as_anger(goemotions_path) + load_written(written_path)
    rows = scored_rows + extra_rows
    embeddings = cached_query_embeddings([row.text for row in rows])
    cues = np.stack([extract_cues(row.text).features for row in rows]) * CUE_SCALE
    return TrainingSet(
        features=np.hstack([embeddings, cues]).astype(np.float32),
        labels=np.array([LABELS.index(row.label) for row in rows]),
        weights=np.array([WRITTEN_WEIGHT if row.source == "written" else 1.0 for row in rows]),
        scored=np.array([row.source == "goemotions" for row in rows]),
    )


def _fit(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=REGULARISATION_C, max_iter=3000, class_weight="balanced")
        model.fit(features, labels, sample_weight=weights)
    order = [list(model.classes_).index(i) for i in range(len(LABELS))]
    return model.coef_[order].T.astype(np.float32), model.intercept_[order].astype(np.float32)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def train(data: TrainingSet) -> LinearEmotionModel:
    weights, bias = _fit(data.features, data.labels, data.weights)
    return LinearEmotionModel(weights=weights, bias=bias, cue_scale=CUE_SCALE)


def cross_validate(data: TrainingSet) -> dict[str, object]:
    """5-fold CV on the scored GoEmotions rows; extra rows are always in the training side."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold

    scored = np.where(data.scored)[0]
    extra = np.where(~data.scored)[0]
    predictions = np.zeros(len(scored), dtype=int)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED)
    for train_part, test_part in folds.split(scored, data.labels[scored]):
        fit_rows = np.concatenate([scored[train_part], extra])
        weights, bias = _fit(data.features[fit_rows], data.labels[fit_rows], data.weights[fit_rows])
        logits = data.features[scored[test_part]] @ weights + bias
        predictions[test_part] = _log_softmax(logits).argmax(axis=1)
    gold = data.labels[scored]
    per_class = f1_score(gold, predictions, average=None, labels=range(len(LABELS)))
    precision, recall, f1, _ = precision_recall_fscore_support(gold == 0, predictions == 0, average="binary")
    return {
        "per_class_f1": dict(zip(LABELS, (round(float(x), 3) for x in per_class), strict=True)),
        "macro_f1": round(float(per_class.mean()), 3),
        "anger": {
            "precision": round(float(precision), 3),
            "recall": round(float(recall), 3),
            "f1": round(float(f1), 3),
        },
        "confusion": confusion_matrix(gold, predictions, labels=range(len(LABELS))).tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--goemotions", type=Path, default=GOEMOTIONS_PATH)
    parser.add_argument("--written", type=Path, default=WRITTEN_PATH)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--cv", action="store_true", help="also print GoEmotions 5-fold cross-validated scores")
    args = parser.parse_args(argv)

    data = build_training_set(args.goemotions, args.written)
    if args.cv:
        print(json.dumps({"goemotions_5fold_cv": cross_validate(data)}, indent=2))
    model = train(data)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) from {len(data.labels)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

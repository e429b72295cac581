"""Rebuild the complaint classifier: `python -m bot.handoff.train_complaint` (add `--cv` for the variant table).

Training data (licence-clean only):
- bot/handoff/data/complaint_examples.jsonl: complaints and non-complaints written for Warmdesk (en + zh);
- GoEmotions dev split (Apache-2.0, Demszky et al. 2020) at a low weight: anger / annoyance / disapproval /
  disappointment / disgust → complaint-leaning, clearly positive or neutral rows → not, the rest left out.
Evaluation-only sets (complaints, USS, SMP2020, CLUE, ATEC) are never read here.

Everything is chosen on the training data: the hyper-parameters (C, GoEmotions weight, cue features on/off) are
the variant with the best 5-fold CV F1 on the written examples (GoEmotions rows always on the training side;
ties go to the first in grid order), and the operating point is the F1-best threshold on that variant's
out-of-fold probabilities, folded into the bias so that score 0.5 = that point. The "confident" point is the
lowest threshold at or above it whose out-of-fold precision reaches CONFIDENT_PRECISION; the trigger trusts a
score that high without corroboration (bot/handoff/triggers.py::_corroborated).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.handoff.complaint import cue_groups_in
from bot.handoff.complaint_model import MODEL_PATH, ComplaintModel

WRITTEN_PATH = Path(__file__).resolve().parent / "data" / "complaint_examples.jsonl"
GOEMOTIONS_PATH = Path("/work/shared/bench/goemotions_emotion.jsonl")
COMPLAINT_LEANING = frozenset({"anger", "annoyance", "disapproval", "disappointment", "disgust"})
NOT_COMPLAINT = frozenset(
    {"admiration", "amusement", "approval", "caring", "excitement", "gratitude", "joy", "love", "neutral"}
    | {"optimism", "pride", "relief", "curiosity"}
)
CUE_GROUPS = ("failure", "dissatisfaction", "waiting", "demand")


@dataclass(frozen=True, slots=True)
class Config:
    regularisation_c: float = 1.0
    goemotions_weight: float = 0.0
    use_cues: bool = False
    cue_scale: float = 1.0


CV_FOLDS = 5
SEED = 0
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)
CONFIDENT_PRECISION = 0.95


@dataclass(frozen=True, slots=True)
class Rows:
    texts: list[str]
    labels: np.ndarray  # 1 = complaint
    written: np.ndarray  # True for our written examples
    lang: list[str]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_rows(written_path: Path = WRITTEN_PATH, goemotions_path: Path | None = GOEMOTIONS_PATH) -> Rows:
    texts, labels, written, lang = [], [], [], []
    for row in _jsonl(written_path):
        texts.append(row["text"])
        labels.append(int(row["complaint"]))
        written.append(True)
        lang.append(row["lang"])
    if goemotions_path is not None and goemotions_path.exists():
        for row in _jsonl(goemotions_path):
            found = set(row["labels"])
            if found & COMPLAINT_LEANING:
                label = 1
            elif found and found <= NOT_COMPLAINT:
                label = 0
            else:
                continue
            texts.append(row["text"])
            labels.append(label)
            written.append(False)
            lang.append(row.get("lang", "en"))
    return Rows(texts, np.array(labels), np.array(written), lang)


def feature_matrix(rows: Rows, vectors: np.ndarray, config: Config) -> np.ndarray:
    layout = ComplaintModel(np.zeros(0), 0.0, CUE_GROUPS if config.use_cues else (), config.cue_scale)
    return np.stack([layout.features(v, cue_groups_in(t)) for t, v in zip(rows.texts, vectors, strict=True)])


def _fit(features: np.ndarray, labels: np.ndarray, weights: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        model.fit(features, labels, sample_weight=weights)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def _weights(rows: Rows, config: Config) -> np.ndarray:
    return np.where(rows.written, 1.0, config.goemotions_weight)


def out_of_fold(rows: Rows, features: np.ndarray, config: Config) -> np.ndarray:
    """Probabilities of every written row from a model fitted without its fold (other sources always train)."""
    from sklearn.model_selection import StratifiedKFold

    written = np.where(rows.written)[0]
    others = np.where(~rows.written & (_weights(rows, config) > 0))[0]
    strata = [f"{rows.lang[i]}{rows.labels[i]}" for i in written]
    probabilities = np.zeros(len(written))
    for train_part, test_part in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED).split(written, strata):
        fit_rows = np.concatenate([written[train_part], others])
        weights = _weights(rows, config)[fit_rows]
        w, b = _fit(features[fit_rows], rows.labels[fit_rows], weights, config.regularisation_c)
        probabilities[test_part] = 1.0 / (1.0 + np.exp(-(features[written[test_part]] @ w + b)))
    return probabilities


def f1_at(gold: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = probabilities >= threshold
    tp = int((predicted & (gold == 1)).sum())
    fp = int((predicted & (gold == 0)).sum())
    fn = int((~predicted & (gold == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def choose_threshold(gold: np.ndarray, probabilities: np.ndarray) -> float:
    """The F1-best threshold on out-of-fold probabilities; ties go to the middle of the best run."""
    values = np.array([f1_at(gold, probabilities, t)["f1"] for t in THRESHOLDS])
    best = np.flatnonzero(values >= values.max() - 1e-9)
    return float(THRESHOLDS[best[len(best) // 2]])


def confident_threshold(gold: np.ndarray, probabilities: np.ndarray, operating: float) -> float | None:
    """The lowest threshold >= `operating` whose out-of-fold precision reaches CONFIDENT_PRECISION (None: none does)."""
    for threshold in THRESHOLDS:
        if threshold >= operating and f1_at(gold, probabilities, threshold)["precision"] >= CONFIDENT_PRECISION:
            return float(threshold)
    return None


def evaluate(rows: Rows, vectors: np.ndarray, config: Config) -> dict[str, object]:
    features = feature_matrix(rows, vectors, config)
    probabilities = out_of_fold(rows, features, config)
    gold = rows.labels[rows.written]
    threshold = choose_threshold(gold, probabilities)
    confident = confident_threshold(gold, probabilities, threshold)
    lang = np.array(rows.lang)[rows.written]
    return {
        "threshold": threshold,
        "confident": None if confident is None else {"threshold": confident, **f1_at(gold, probabilities, confident)},
        "all": f1_at(gold, probabilities, threshold),
        "en": f1_at(gold[lang == "en"], probabilities[lang == "en"], threshold),
        "zh": f1_at(gold[lang == "zh"], probabilities[lang == "zh"], threshold),
    }


def select(rows: Rows, vectors: np.ndarray, verbose: bool = False) -> tuple[Config, dict[str, object]]:
    """The variant with the best written-data CV F1 (first in grid order among equals), with its CV report."""
    best: tuple[Config, dict[str, object]] | None = None
    for config in variants():
        report = evaluate(rows, vectors, config)
        if verbose:
            print(json.dumps({"config": _as_dict(config), **report}))
        if best is None or report["all"]["f1"] > best[1]["all"]["f1"]:
            best = (config, report)
    assert best is not None
    return best


def build(
    rows: Rows, vectors: np.ndarray, config: Config, report: dict[str, object] | None = None
) -> tuple[ComplaintModel, dict[str, object]]:
    """The shipped model for `config`, with the threshold from its CV `report` (computed if not given)."""
    report = report or evaluate(rows, vectors, config)
    features = feature_matrix(rows, vectors, config)
    keep = _weights(rows, config) > 0
    weights, bias = _fit(features[keep], rows.labels[keep], _weights(rows, config)[keep], config.regularisation_c)
    threshold = float(report["threshold"])
    shifted = bias - _logit(threshold)  # score 0.5 == the chosen threshold
    confident = math.inf
    if report.get("confident"):  # the same point in score units: sigmoid(logit(p) - logit(threshold))
        confident = 1.0 / (1.0 + math.exp(_logit(threshold) - _logit(float(report["confident"]["threshold"]))))
    cue_groups = CUE_GROUPS if config.use_cues else ()
    return ComplaintModel(weights, shifted, cue_groups, config.cue_scale, confident), report


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def variants() -> list[Config]:
    return [
        Config(c, g, cues)
        for c in (1.0, 3.0, 10.0, 30.0, 100.0)
        for g in (0.0, 0.02, 0.05, 0.1)
        for cues in (False, True)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--written", type=Path, default=WRITTEN_PATH)
    parser.add_argument("--goemotions", type=Path, default=GOEMOTIONS_PATH)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--cv", action="store_true", help="print the CV scores of every variant")
    args = parser.parse_args(argv)

    from bot.emotion.embedding_cache import cached_query_embeddings

    rows = load_rows(args.written, args.goemotions)
    vectors = cached_query_embeddings(rows.texts)
    config, report = select(rows, vectors, verbose=args.cv)
    model, report = build(rows, vectors, config, report)
    print(json.dumps({"chosen": _as_dict(config), "written_5fold_cv": report}, indent=2))
    model.save(args.out)
    used = int((_weights(rows, config) > 0).sum())
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) from {used} rows", file=sys.stderr)
    return 0


def _as_dict(config: Config) -> dict[str, object]:
    return {name: getattr(config, name) for name in Config.__slots__}


if __name__ == "__main__":
    raise SystemExit(main())

"""When to answer: a small logistic rule fitted on the KB's own questions, so it adapts to each KB.

Held-out folds simulate both kinds of customer text. In each fold a quarter of the entries is removed
entirely (their questions become out-of-scope queries: the right answer is "none of these"), and one
question in four of the remaining entries is held out (in-scope queries). A ranker is fitted on the
rest, and a logistic regression learns, from three per-query signals, whether the top entry is right:

- the best raw cosine to one of the top entry's questions (how close the text is to anything known),
- the classifier's logit for the top entry (evidence for it, not normalised against the others),
- the classifier's probability of the top entry (how clearly it beats the other entries).

Classes are weighted equally, so the rule's logit is 0 where a wrong/out-of-scope answer is as likely
as a right one *on this KB*; `RetrievalSettings.answer_bias` then moves the operating point once for
all KBs. Only KBs that get a classifier are calibrated (the rule needs its signals and ≥ 2 questions
per entry); fitting costs a few classifier fits (~1-3 s for 1,500 questions).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from knowledge.ranking import EntryScores, Ranker, RankingWeights

_FOLDS = 4
_SEED = 0


@dataclass(frozen=True, slots=True)
class AnswerRule:
    center: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, features: np.ndarray) -> float:
        return float(((features - self.center) / self.scale) @ self.coef + self.intercept)


def answer_features(scores: EntryScores, group: np.ndarray) -> np.ndarray:
    """Signals for answering with one of the entries in `group` (a single entry, or a clarify group)."""
    assert scores.logits is not None and scores.probability is not None
    logits = scores.logits[group]
    peak = float(logits.max())
    return np.array(
        [
            float(scores.similarity[group].max()),
            peak + float(np.log(np.exp(logits - peak).sum())),
            float(scores.probability[group].sum()),
        ],
        dtype=np.float64,
    )


def fit_answer_rule(
    vectors: np.ndarray,
    tokens: list[list[str]],
    owner: np.ndarray,
    n_entries: int,
    weights: RankingWeights,
    passage_vectors: np.ndarray | None = None,
) -> AnswerRule | None:
    """The rule for this KB, or None when it has no classifier to calibrate."""
    if not weights.wants_classifier(len(owner), n_entries):
        return None
    rng = np.random.default_rng(_SEED)
    entry_fold = rng.permutation(n_entries) % _FOLDS
    position = np.arange(len(owner)) - np.searchsorted(owner, owner)  # index of the question in its entry
    features: list[np.ndarray] = []
    correct: list[bool] = []
    for fold in range(_FOLDS):
        removed_entry = entry_fold[owner] == fold
        held_out = removed_entry | (position % _FOLDS == fold)
        train = ~held_out
        kept = np.unique(owner[train])
        new_index = np.full(n_entries, -1)
        new_index[kept] = np.arange(len(kept))
        if len(kept) < 2:
            continue
        ranker = Ranker(
            vectors[train],
            [tokens[i] for i in np.flatnonzero(train)],
            new_index[owner[train]],
            len(kept),
            weights,
            None if passage_vectors is None else passage_vectors[train],
            with_classifier=True,
        )
        for row in np.flatnonzero(held_out):
            scores = ranker.score(tokens[row], vectors[row])
            top = int(np.argmax(scores.fused))
            features.append(answer_features(scores, np.array([top])))
            correct.append(bool(new_index[owner[row]] == top))
    if not features or all(correct) or not any(correct):
        return None
    return _fit_logistic(np.vstack(features), np.array(correct))


def _fit_logistic(features: np.ndarray, correct: np.ndarray) -> AnswerRule:
    """Balanced logistic regression whose weights are all ≥ 0: every signal may only raise confidence.

    (On a small KB one signal can look useless or even inverted on the held-out folds; a negative
    weight on similarity would then make text far from every question *more* answerable.)
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    center, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
    standardized = (features - center) / scale
    used = np.ones(features.shape[1], dtype=bool)
    coef = np.zeros(features.shape[1])
    intercept = 0.0
    while used.any():
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=500)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(standardized[:, used], correct)
        coef[:] = 0.0
        coef[used] = model.coef_[0]
        intercept = float(model.intercept_[0])
        if (coef >= 0).all():
            break
        used &= coef > 0
    return AnswerRule(center, scale, np.maximum(coef, 0.0), intercept)

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

KBs with no classifier but enough entries (huge ones such as the 20k single-question ATEC KB, or
single-question KBs) get a `MarginRule` instead, also learnt from the KB itself: a sample of its
questions is searched against the KB *minus their own entry* (exactly what an out-of-scope question
that resembles the KB looks like), and the rule keeps how far the top entry's fused score leads the
runner-up in that situation. A customer question is then answered only when its lead is larger than
most of those simulated out-of-scope leads, a scale that transfers between KBs because it is measured
on each KB. Raw cosine is not used there: with e5 on Chinese it sits at 0.97-0.99 for everything.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from knowledge.ranking import EntryScores, Ranker, RankingWeights

_FOLDS = 4
_SEED = 0
MARGIN_RULE_MIN_ENTRIES = 50  # below this, too few questions to learn from: the fixed fallback rule is used
_MARGIN_SAMPLE = 256  # simulated out-of-scope questions (~2 s on a 20k-entry KB)


@dataclass(frozen=True, slots=True)
class AnswerRule:
    center: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, features: np.ndarray) -> float:
        return float(((features - self.center) / self.scale) @ self.coef + self.intercept)


@dataclass(frozen=True, slots=True)
class MarginRule:
    """Leads of the best k entries over the (k+1)-th for simulated out-of-scope questions of one KB."""

    leads: np.ndarray  # (max group size, samples); row k-1 sorted ascending

    def out_of_scope_rank(self, group_size: int, lead: float) -> float:
        """Share (0..1) of the simulated out-of-scope questions whose lead is smaller than `lead`."""
        row = self.leads[min(max(group_size, 1), len(self.leads)) - 1]
        below = np.searchsorted(row, lead, side="left") + np.searchsorted(row, lead, side="right")
        return float(below) / (2 * len(row))


def fit_margin_rule(
    ranker: Ranker, vectors: np.ndarray, tokens: list[list[str]], owner: np.ndarray, max_group: int
) -> MarginRule | None:
    """The lead distribution of this KB, or None when it has a classifier (then `fit_answer_rule`) or is
    too small to sample. Cost: `_MARGIN_SAMPLE` searches, with no model fitting."""
    n_entries = ranker.n_entries
    if ranker.has_classifier or n_entries < MARGIN_RULE_MIN_ENTRIES or max_group < 1:
        return None
    first_question = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    sampled = np.sort(np.random.default_rng(_SEED).permutation(n_entries)[:_MARGIN_SAMPLE])
    depth = min(max_group + 1, n_entries - 1)
    leads = []
    for entry in sampled:
        row = first_question[entry]
        fused = ranker.score(tokens[row], vectors[row]).fused.astype(np.float64)
        fused[entry] = -np.inf  # the question's own entry is gone: it is now out of scope
        top = np.partition(-fused, depth - 1)[:depth]
        top = np.sort(-top)[::-1]
        leads.append(top[0] - top[1:])
    table = np.sort(np.array(leads).T, axis=1)
    return MarginRule(table)


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

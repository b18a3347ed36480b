"""Confidence that means something: the probability that a whole decision is right.

The classifiers' temperature-scaled probabilities say how sure a model is of an intent
among the shapes it was trained on; they do not say whether the decision (intent, FAQ
entry, rules applied) is right on a message of a shape it never saw. So a small logistic
model maps what the engine knows about a decision (classifier probability and margin,
FAQ score and gap, which rule decided, the intent, length) to P(decision correct). It is
fitted by cross-validation grouped by training file: each file holds one shape of message
(stories, voice typing, formal complaints…), so a held-out file stands for a shape the
model has not seen, as the residents' next message may be.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# How a decision was reached (the engine's route), one feature each.
SOURCES = ("classifier", "rule", "emergency_rule", "report", "referral", "bare", "settled")
# Two folds: each fold model fits on half the data, so calibration costs about one
# more training (the server trains at first start).
FOLDS = 2


@dataclass(frozen=True)
class Evidence:
    """What the engine knows about one decision, before calibration."""

    intent: str
    probability: float  # the classifier's probability of its top intent
    margin: float  # top minus runner-up probability
    faq_score: float
    faq_gap: float  # best minus second FAQ candidate score
    answered: bool
    source: str
    length: int


@dataclass(frozen=True)
class Calibrator:
    """P(decision correct) = sigmoid(w · features(evidence) + b)."""

    intents: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def features(self, e: Evidence) -> list[float]:
        return _features(e, self.intents)

    def __post_init__(self) -> None:
        # The one-hot parts as lookups: a message costs a few multiplications.
        numeric = len(self.weights) - len(SOURCES) - len(self.intents)
        object.__setattr__(self, "_numeric", numeric)
        object.__setattr__(self, "_source_w", dict(zip(SOURCES, self.weights[numeric:],
                                                       strict=False)))
        object.__setattr__(self, "_intent_w", dict(zip(self.intents,
                                                       self.weights[numeric + len(SOURCES):],
                                                       strict=True)))

    def __call__(self, e: Evidence) -> float:
        """The same as sigmoid(w · features(e) + b), without building the vector."""
        w = self.weights
        p = min(max(e.probability, 1e-6), 1 - 1e-6)
        z = (self.bias + w[0] * math.log(p / (1 - p)) + w[1] * e.margin + w[2] * e.faq_score
             + w[3] * e.faq_gap + w[4] * float(e.answered) + w[5] * (min(e.length, 120) / 60.0)
             + self._source_w.get(e.source, 0.0) + self._intent_w.get(e.intent, 0.0))
        return 1.0 / (1.0 + math.exp(-z))


def _features(e: Evidence, intents: Sequence[str]) -> list[float]:
    p = min(max(e.probability, 1e-6), 1 - 1e-6)
    return [
        math.log(p / (1 - p)),
        e.margin,
        e.faq_score,
        e.faq_gap,
        float(e.answered),
        min(e.length, 120) / 60.0,
        *(float(e.source == s) for s in SOURCES),
        *(float(e.intent == i) for i in intents),
    ]


def fit(samples: Sequence[tuple[Evidence, bool]], intents: Sequence[str]) -> Calibrator:
    """Fit on (evidence, decision was correct) pairs from held-out folds."""
    from sklearn.linear_model import LogisticRegression  # training only: serving never needs it

    x = np.array([_features(e, intents) for e, _ in samples], dtype=np.float64)
    y = np.array([ok for _, ok in samples])
    if y.all() or not y.any():  # nothing to learn from: keep the classifier's view
        return Calibrator(tuple(intents), (1.0, *[0.0] * (x.shape[1] - 1)), 0.0)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x, y)
    return Calibrator(tuple(intents), tuple(float(w) for w in model.coef_[0]),
                      float(model.intercept_[0]))


def folds(groups: Sequence[str], k: int = FOLDS) -> list[list[int]]:
    """Indices of k folds, whole groups (training files) kept together, sizes balanced."""
    sizes: dict[str, int] = {}
    for group in groups:
        sizes[group] = sizes.get(group, 0) + 1
    load = [0] * k
    assignment: dict[str, int] = {}
    for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
        fold = load.index(min(load))
        assignment[group] = fold
        load[fold] += sizes[group]
    out: list[list[int]] = [[] for _ in range(k)]
    for index, group in enumerate(groups):
        out[assignment[group]].append(index)
    return out


def held_out_samples(
    groups: Sequence[str],
    fit_fold: Callable[[list[int]], Callable[[int], tuple[Evidence, bool] | None]],
    k: int = FOLDS,
) -> list[tuple[Evidence, bool]]:
    """For each fold: fit on the others (`fit_fold(train indices)` returns a judge of one
    held-out index, None when there is nothing to judge), then judge every held-out one."""
    parts = folds(groups, k)
    samples = []
    for held in parts:
        held_set = set(held)
        judge = fit_fold([i for i in range(len(groups)) if i not in held_set])
        samples += [s for s in map(judge, held) if s is not None]
    return samples

"""A linear softmax classifier over our sparse features, temperature-calibrated.

Calibration matters because the dialogue engine compares the confidence with a
threshold to decide between answering and clarifying; the temperature is fitted
on held-out predictions so training-set overconfidence does not leak in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

_TEMPERATURES = np.round(np.arange(0.3, 3.01, 0.05), 2)


def softmax(scores: np.ndarray) -> np.ndarray:
    if scores.ndim == 1:  # one message: the same reductions, without numpy's Python wrappers
        exp = np.exp(scores - np.maximum.reduce(scores))
        return exp / np.add.reduce(exp)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass
class LinearClassifier:
    labels: list[str]
    weights: np.ndarray  # (features, labels): rows are gathered per message
    bias: np.ndarray
    temperature: float = 1.0

    @classmethod
    def train(
        cls, matrix: csr_matrix, labels: Sequence[str], c: float = 10.0, calibrate: bool = True
    ) -> LinearClassifier:
        # Training only: serving reads the plain numpy weights and never imports sklearn.
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(labels)
        model = LogisticRegression(C=c, max_iter=3000, tol=1e-3, random_state=7)
        model.fit(matrix, y)
        temperature = _fit_temperature(matrix, y, c) if calibrate else 1.0
        return cls(
            labels=[str(label) for label in model.classes_],
            weights=np.ascontiguousarray(model.coef_.T, dtype=np.float64),
            bias=model.intercept_.astype(np.float64),
            temperature=temperature,
        )

    def probabilities(self, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities of one vectorized message."""
        return self.calibrated(values @ self.weights[idx] + self.bias)

    def calibrated(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from raw linear scores (computed elsewhere, several models at once)."""
        return softmax(scores / self.temperature)


def _fit_temperature(matrix: csr_matrix, y: np.ndarray, c: float) -> float:
    """Pick the temperature minimizing log-loss on a stratified 30% held-out split.

    One split rather than k folds: training has to stay within seconds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedShuffleSplit

    classes = np.unique(y)
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=7)
    train, test = next(split.split(matrix, y))
    model = LogisticRegression(C=c, max_iter=3000, tol=1e-3, random_state=7)
    model.fit(matrix[train], y[train])
    scores = np.full((len(test), len(classes)), -30.0)
    scores[:, np.searchsorted(classes, model.classes_)] = model.decision_function(matrix[test])
    truth = np.searchsorted(classes, y[test])
    losses = [
        -np.mean(np.log(softmax(scores / t)[np.arange(len(test)), truth] + 1e-12))
        for t in _TEMPERATURES
    ]
    return float(_TEMPERATURES[int(np.argmin(losses))])

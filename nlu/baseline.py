"""The plain baseline every eval figure is compared with: jieba TF-IDF + logistic regression.

Same training data, none of the rest (no normalization, no char n-grams, no
calibration, no rules, no retrieval): it shows what the extra machinery buys.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.dataset import Example
from nlu.decision import Decision, FaqCandidate
from nlu.model import NO_FAQ
from nlu.tokenizer import tokenizer


def _jieba(text: str) -> list[str]:
    return [t for t in tokenizer().lcut(text) if not t.isspace()]


class Baseline:
    """Intent LR and FAQ-id LR over jieba word TF-IDF."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.vectorizer = TfidfVectorizer(tokenizer=_jieba, token_pattern=None, lowercase=False)
        matrix = self.vectorizer.fit_transform([e.text for e in examples])
        self.intent = LogisticRegression(max_iter=2000).fit(matrix, [e.intent for e in examples])
        rows = [i for i, e in enumerate(examples) if e.intent == "faq"]
        labels = [examples[i].faq_id or NO_FAQ for i in rows]
        self.faq = LogisticRegression(max_iter=2000).fit(matrix[rows], labels)

    def understand(self, text: str) -> Decision:
        vector = self.vectorizer.transform([text])
        probs = self.intent.predict_proba(vector)[0]
        order = np.argsort(-probs)
        intent = str(self.intent.classes_[order[0]])
        faq_probs = self.faq.predict_proba(vector)[0]
        ranked = [i for i in np.argsort(-faq_probs) if self.faq.classes_[i] != NO_FAQ][:3]
        candidates = [
            FaqCandidate(str(self.faq.classes_[i]), "", float(faq_probs[i])) for i in ranked
        ]
        best = self.faq.classes_[int(np.argmax(faq_probs))]
        faq_id = str(best) if intent == "faq" and best != NO_FAQ else None
        return Decision(
            text=text,
            intent=intent,
            confidence=float(probs[order[0]]),
            margin=float(probs[order[0]] - probs[order[1]]),
            faq_id=faq_id,
            faq_score=float(faq_probs.max()) if faq_id else 0.0,
            candidates=candidates,
        )

"""FAQ retrieval over standard + similar questions: BM25 on jieba words plus char-bigram cosine.

Both parts are normalized by the query, so a score says how much of what the
resident asked is covered by an entry; words the knowledge base never uses pull
the score down, which is what keeps uncovered questions under the answer threshold.
Built from the enabled entries in milliseconds, so it is rebuilt on every KB change.
Scoring gathers rows of dense term × document matrices: a few microseconds a query.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.repository import Faq
from nlu.normalize import normalize
from nlu.tokenizer import tokens

K1, B = 1.2, 0.5
BM25_WEIGHT = 0.5
KEYWORD_BONUS = 0.08
MAX_KEYWORD_BONUS = 0.16


@dataclass(frozen=True)
class Hit:
    faq_id: str
    question: str
    score: float


def bigrams(text: str) -> list[str]:
    compact = text.replace(" ", "")
    return [compact[i:i + 2] for i in range(len(compact) - 1)] or ([compact] if compact else [])


class _TermMatrix:
    """Term → row of per-document weights, with idf for query weighting."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, rows: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.rows = rows
        self.max_idf = float(idf.max()) if len(idf) else 1.0


class FaqRetriever:
    """An in-memory index of the enabled FAQ entries."""

    def __init__(self, entries: Sequence[Faq]) -> None:
        self.entries = [e for e in entries if e.enabled]
        self.ids = [e.id for e in self.entries]
        doc_entry: list[int] = []
        word_docs: list[list[str]] = []
        gram_docs: list[list[str]] = []
        for index, entry in enumerate(self.entries):
            for question in [entry.question, *entry.similar_questions]:
                norm = normalize(question)
                doc_entry.append(index)
                word_docs.append(tokens(norm))
                gram_docs.append(bigrams(norm))
        self._starts = np.flatnonzero(np.r_[True, np.diff(doc_entry) != 0]) if doc_entry else None
        self._keywords = [
            [normalize(k).replace(" ", "") for k in entry.keywords if k.strip()]
            for entry in self.entries
        ]
        self._words = _bm25(word_docs)
        self._grams = _cosine(gram_docs)

    def scores(self, normalized: str, words: list[str]) -> np.ndarray:
        """One score per enabled entry, in [0, 1]."""
        if self._starts is None:
            return np.zeros(0)
        docs = BM25_WEIGHT * _query(self._words, set(words), sublinear=False)
        docs += (1 - BM25_WEIGHT) * _query(self._grams, bigrams(normalized), sublinear=True)
        best = np.maximum.reduceat(docs, self._starts)
        compact = normalized.replace(" ", "")
        for entry, keywords in enumerate(self._keywords):
            hits = sum(1 for kw in keywords if kw in compact)
            if hits:
                best[entry] += min(MAX_KEYWORD_BONUS, KEYWORD_BONUS * hits)
        return np.minimum(best, 1.0)

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """Top-k entries for a message, best first."""
        norm = normalize(text)
        return self.top(self.scores(norm, tokens(norm)), k)

    def top(self, scores: np.ndarray, k: int = 3) -> list[Hit]:
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            Hit(self.ids[i], self.entries[i].question, round(float(scores[i]), 4))
            for i in order
            if scores[i] > 0
        ]


def _query(matrix: _TermMatrix, terms: Sequence[str] | set[str], sublinear: bool) -> np.ndarray:
    """Query-normalized similarity of every document (BM25 coverage or cosine)."""
    counts = Counter(terms)
    if not counts:
        return np.zeros(matrix.rows.shape[1])
    rows, weights, total = [], [], 0.0
    for term, n in counts.items():
        i = matrix.vocabulary.get(term)
        idf = matrix.idf[i] if i is not None else matrix.max_idf
        weight = (1 + math.log(n)) * idf if sublinear else idf
        total += weight * weight if sublinear else weight
        if i is not None:
            rows.append(i)
            weights.append(weight)
    if not rows:
        return np.zeros(matrix.rows.shape[1])
    norm = math.sqrt(total) if sublinear else total
    return np.asarray(weights) @ matrix.rows[rows] / norm


def _vocabulary(docs: list[list[str]]) -> tuple[dict[str, int], Counter[str]]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    return {t: i for i, t in enumerate(sorted(df))}, df


def _bm25(docs: list[list[str]]) -> _TermMatrix:
    vocabulary, df = _vocabulary(docs)
    n = len(docs)
    idf = np.array([math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in vocabulary])
    rows = np.zeros((len(vocabulary), n))
    avgdl = sum(len(d) for d in docs) / max(1, n)
    for j, doc in enumerate(docs):
        norm_len = 1 - B + B * len(doc) / avgdl
        for term, tf in Counter(doc).items():
            part = tf * (K1 + 1) / (tf + K1 * norm_len)
            rows[vocabulary[term], j] = min(part, 1.0)  # idf is applied on the query side
    return _TermMatrix(vocabulary, idf, rows)


def _cosine(docs: list[list[str]]) -> _TermMatrix:
    vocabulary, df = _vocabulary(docs)
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in vocabulary])
    rows = np.zeros((len(vocabulary), n))
    for j, doc in enumerate(docs):
        for gram, count in Counter(doc).items():
            rows[vocabulary[gram], j] = (1 + math.log(count)) * idf[vocabulary[gram]]
    lengths = np.sqrt((rows * rows).sum(axis=0))
    rows /= np.where(lengths > 0, lengths, 1.0)
    return _TermMatrix(vocabulary, idf, rows)

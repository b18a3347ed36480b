"""FAQ retrieval over standard + similar questions: BM25 on jieba words plus char-bigram cosine.

Both parts are normalized by the query, so a score says how much of what the
resident asked is covered by an entry; words the knowledge base never uses pull
the score down, which is what keeps uncovered questions under the answer threshold.
Built from the enabled entries in ~70 ms, so it is simply rebuilt on every KB change.
Scoring gathers rows of one dense term × document matrix: tens of microseconds a query.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from knowledge_base.repository import Faq
from nlu.decision import FaqCandidate
from nlu.normalize import normalize
from nlu.tokenizer import tokens

K1, B = 1.2, 0.5
BM25_WEIGHT = 0.5
KEYWORD_BONUS = 0.08
MAX_KEYWORD_BONUS = 0.16


def bigrams(text: str) -> list[str]:
    return _compact_bigrams(text.replace(" ", ""))


def _compact_bigrams(compact: str) -> list[str]:
    """Character bigrams of a text without spaces; a single character stands alone."""
    return [compact[i:i + 2] for i in range(len(compact) - 1)] or ([compact] if compact else [])


class _TermMatrix:
    """Term → row of per-document weights, with idf for query weighting."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, rows: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.rows = rows
        self.max_idf = float(idf.max()) if len(idf) else 1.0
        self.offset = 0  # where these rows start in the retriever's stacked matrix


class FaqRetriever:
    """An in-memory index of the enabled FAQ entries."""

    def __init__(self, entries: Sequence[Faq]) -> None:
        self.entries = [e for e in entries if e.enabled]
        self.ids = [e.id for e in self.entries]
        self._questions = [e.question for e in self.entries]
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
        self._keywords: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            for keyword in {normalize(k).replace(" ", "") for k in entry.keywords if k.strip()}:
                self._keywords.setdefault(keyword, []).append(index)
        # Longer keywords filed under their first two characters, so a query only
        # tests the few whose opening bigram it contains.
        self._long_keywords: dict[str, list[str]] = {}
        for keyword in self._keywords:
            if len(keyword) > 2:
                self._long_keywords.setdefault(keyword[:2], []).append(keyword)
        self._words = _bm25(word_docs)
        self._grams = _cosine(gram_docs)
        self._grams.offset = len(self._words.vocabulary)
        self._stacked = np.vstack([self._words.rows, self._grams.rows])
        # Term → row of the stacked matrix, and every row's idf as a Python float:
        # a query gathers its idf with one array conversion instead of two fancy indexes.
        self._gram_rows = {g: r + self._grams.offset for g, r in self._grams.vocabulary.items()}
        self._row_idf: list[float] = np.concatenate([self._words.idf, self._grams.idf]).tolist()

    def scores(self, normalized: str, words: list[str]) -> np.ndarray:
        """One score per enabled entry, in [0, 1]."""
        if self._starts is None:
            return np.zeros(0)
        compact = normalized.replace(" ", "")
        terms, grams = set(words), set(_compact_bigrams(compact))
        word_rows = _known_rows(terms, self._words.vocabulary)
        gram_rows = _known_rows(grams, self._gram_rows)
        if not word_rows and not gram_rows:
            return np.zeros(len(self.entries))
        rows = word_rows + gram_rows
        weights = np.array([self._row_idf[r] for r in rows])
        split = len(word_rows)
        _scale(weights[:split], len(terms) - split, self._words.max_idf, BM25_WEIGHT, linear=True)
        _scale(weights[split:], len(grams) - len(gram_rows), self._grams.max_idf,
               1 - BM25_WEIGHT, linear=False)
        # One gather over the stacked word and bigram matrices, one product.
        docs = weights @ self._stacked[rows]
        best = np.maximum.reduceat(docs, self._starts)
        hits = self._keyword_hits(compact, grams)
        for entry, count in hits.items():
            best[entry] += min(MAX_KEYWORD_BONUS, KEYWORD_BONUS * count)
        return np.minimum(best, 1.0)

    def _keyword_hits(self, compact: str, grams: set[str]) -> dict[int, int]:
        """Entry → how many of its keywords occur in the text."""
        found = {ch for ch in compact if ch in self._keywords}
        found.update(g for g in grams if g in self._keywords)
        for gram in grams:
            for keyword in self._long_keywords.get(gram, ()):
                if keyword in compact:
                    found.add(keyword)
        hits: dict[int, int] = {}
        for keyword in found:
            for entry in self._keywords[keyword]:
                hits[entry] = hits.get(entry, 0) + 1
        return hits

    def search(self, text: str, k: int = 3) -> list[FaqCandidate]:
        """Top-k entries for a message, best first."""
        norm = normalize(text)
        return self.top(self.scores(norm, tokens(norm)), k)

    def top(self, scores: np.ndarray, k: int = 3) -> list[FaqCandidate]:
        """The k best entries with a positive score, best first."""
        order = (-scores).argsort(kind="stable")[:k].tolist()
        every = scores.tolist()  # plain floats: cheaper than a fancy index for k of them
        values = [every[i] for i in order]
        return [
            FaqCandidate(self.ids[i], self._questions[i], round(v, 4))
            for i, v in zip(order, values, strict=True)
            if v > 0
        ]


def _known_rows(terms: set[str], rows: dict[str, int]) -> list[int]:
    """Rows of the terms the index knows, in the set's order."""
    return [row for row in map(rows.get, terms) if row is not None]


def _scale(idf: np.ndarray, unknown: int, max_idf: float, share: float, linear: bool) -> None:
    """Turn one part's idf (a view, scaled in place) into query weights.

    Words: BM25 coverage (idf-weighted share of the query found in a document).
    Bigrams: cosine with binary query weights. Unknown terms count with the
    highest idf, so what the knowledge base never mentions lowers the score.
    """
    if not len(idf):
        return
    if linear:
        total = float(idf.sum()) + unknown * max_idf
    else:
        total = math.sqrt(float(idf @ idf) + unknown * max_idf**2)
    idf *= share / total  # idf > 0, so total > 0


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

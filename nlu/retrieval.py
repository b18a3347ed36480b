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
from itertools import chain
from operator import add

import numpy as np

from knowledge_base.repository import Faq
from nlu.decision import FaqCandidate
from nlu.normalize import normalize
from nlu.speedups import compiled
from nlu.tokenizer import tokens

K1, B = 1.2, 0.5
BM25_WEIGHT = 0.5
KEYWORD_BONUS = 0.08
MAX_KEYWORD_BONUS = 0.16


def bigrams(text: str) -> list[str]:
    return _compact_bigrams(text.replace(" ", ""))


def _compact_bigrams(compact: str) -> list[str]:
    """Character bigrams of a text without spaces; a single character stands alone."""
    return list(map(add, compact, compact[1:])) or ([compact] if compact else [])


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
        self._long_openings = frozenset(self._long_keywords)
        self._short_keywords = {k for k in self._keywords if len(k) <= 2}  # read only
        self._words = _bm25(word_docs)
        self._grams = _cosine(gram_docs)
        self._grams.offset = len(self._words.vocabulary)
        self._stacked = np.vstack([self._words.rows, self._grams.rows])
        # Term → row of the stacked matrix, and every row's idf as a Python float.
        self._gram_rows = {g: r + self._grams.offset for g, r in self._grams.vocabulary.items()}
        self._row_idf: list[float] = np.concatenate([self._words.idf, self._grams.idf]).tolist()
        # Fixed per index, so an index keeps the scorer it was built for.
        self._faq_best = compiled.faq_best if compiled is not None else None
        self._compiled_index = (
            self._index_for_compiled() if self._faq_best and self._starts is not None else None
        )

    def _index_for_compiled(self) -> tuple[object, ...]:
        """What `compiled.faq_best` reads: the tables, and the matrix as CSR (under 1%
        of it is non-zero)."""
        indptr, indices, data = _csr(self._stacked)
        return (self._words.vocabulary, self._gram_rows, self._row_idf,
                float(self._words.max_idf), float(self._grams.max_idf), BM25_WEIGHT,
                indptr, indices, data, self._starts.astype(np.int64),
                self._stacked.shape[1])

    def scores(self, normalized: str, words: list[str]) -> list[float]:
        """One score per enabled entry, in [0, 1]."""
        if self._starts is None:
            return []
        compact = normalized.replace(" ", "")
        terms, grams = set(words), set(_compact_bigrams(compact))
        if self._compiled_index is not None:
            best = self._faq_best(terms, grams, self._compiled_index)
        else:
            best = self._coverage(terms, grams)
        if best is None:
            return [0.0] * len(self.entries)
        for entry, count in self._keyword_hits(compact, grams).items():
            best[entry] = min(1.0, best[entry] + min(MAX_KEYWORD_BONUS, KEYWORD_BONUS * count))
        return best

    def _coverage(self, terms: set[str], grams: set[str]) -> list[float] | None:
        """Per entry, its best question's share of the query; None if no term is known.

        Query weights in plain Python (a few dozen floats); numpy for the one
        gather-and-product over the document matrix. `compiled.faq_best` does the same.
        """
        word_rows = _known_rows(terms, self._words.vocabulary)
        gram_rows = _known_rows(grams, self._gram_rows)
        if not word_rows and not gram_rows:
            return None
        idf = self._row_idf
        word_idf = [idf[r] for r in word_rows]
        gram_idf = [idf[r] for r in gram_rows]
        # Words: BM25 coverage (idf-weighted share of the query found in a document).
        # Bigrams: cosine with binary query weights. Unknown terms count with the
        # highest idf, so what the knowledge base never mentions lowers the score.
        word_total = sum(word_idf) + (len(terms) - len(word_rows)) * self._words.max_idf
        gram_total = math.sqrt(sum([x * x for x in gram_idf])
                               + (len(grams) - len(gram_rows)) * self._grams.max_idf ** 2)
        word_share = BM25_WEIGHT / word_total if word_rows else 0.0
        gram_share = (1 - BM25_WEIGHT) / gram_total if gram_rows else 0.0
        weights = [x * word_share for x in word_idf] + [x * gram_share for x in gram_idf]
        docs = np.array(weights) @ self._stacked.take(word_rows + gram_rows, axis=0)
        return np.maximum.reduceat(docs, self._starts).tolist()

    def _keyword_hits(self, compact: str, grams: set[str]) -> dict[int, int]:
        """Entry → how many of its keywords occur in the text."""
        # One- and two-character keywords by set intersection (in C); longer ones are
        # tested only when the text holds their opening bigram.
        found = self._short_keywords.intersection(chain(compact, grams))
        for gram in self._long_openings & grams:
            found.update(k for k in self._long_keywords[gram] if k in compact)
        hits: dict[int, int] = {}
        for keyword in found:
            for entry in self._keywords[keyword]:
                hits[entry] = hits.get(entry, 0) + 1
        return hits

    def search(self, text: str, k: int = 3) -> list[FaqCandidate]:
        """Top-k entries for a message, best first."""
        norm = normalize(text)
        return self.top(self.scores(norm, tokens(norm)), k)

    def top(self, scores: Sequence[float], k: int = 3) -> list[FaqCandidate]:
        """The k best entries with a positive score, best first (ties: the earlier entry)."""
        # sorted() is stable, so equal scores keep the entries' order.
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:k]
        return [
            FaqCandidate(self.ids[i], self._questions[i], round(scores[i], 4))
            for i in order
            if scores[i] > 0
        ]


def _known_rows(terms: set[str], rows: dict[str, int]) -> list[int]:
    """Rows of the terms the index knows, in the set's order."""
    return [row for row in map(rows.get, terms) if row is not None]


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


def _csr(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays (indptr, indices, data) of a dense matrix, as scipy would give them.

    In numpy alone: importing scipy would cost the server a third of a second at start.
    np.nonzero walks in row-major order, which is CSR's order.
    """
    rows, cols = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int32), dense[rows, cols].astype(np.float64)

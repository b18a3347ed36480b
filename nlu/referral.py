"""Which referral entry (category `referral` in the knowledge base) a message is about.

Referral entries name another body (燃气公司, 供电局, 开发商, 社区居委会, 12345…) and
the matters it handles; a message is matched by the entries' keywords, the longest and
most numerous hits winning. Pure data: adding an entry needs no code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge_base.repository import Faq
from nlu.normalize import normalize
from nlu.retrieval import bigrams

REFERRAL = "referral"
# A message repeating this share of a referral question's character pairs (and at least
# MIN_SHARED of them) is about that question's matter.
COVERAGE = 0.6
MIN_SHARED = 4


def is_referral(entry: Faq) -> bool:
    return entry.category == REFERRAL


class ReferralIndex:
    """Keyword lookup over the enabled referral entries."""

    def __init__(self, entries: Sequence[Faq]) -> None:
        keywords: dict[str, str] = {}  # keyword → entry id (the first entry naming it)
        self._questions: list[tuple[int, str]] = []  # (character pairs, entry id)
        self._postings: dict[str, list[int]] = {}  # character pair → questions holding it
        for entry in entries:
            if not (entry.enabled and is_referral(entry)):
                continue
            for keyword in entry.keywords:
                compact = normalize(keyword).replace(" ", "")
                if compact:
                    keywords.setdefault(compact, entry.id)
            for question in [entry.question, *entry.similar_questions]:
                grams = set(bigrams(normalize(question)))
                if grams:
                    for gram in grams:
                        self._postings.setdefault(gram, []).append(len(self._questions))
                    self._questions.append((len(grams), entry.id))
        self._keyword_entry = keywords
        # One scan of the message finds every keyword (longest first at each position).
        ordered = sorted(keywords, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return bool(self._keyword_entry or self._questions)

    def match(self, compact: str, questions: bool = True) -> tuple[str, str] | None:
        """(entry id, keyword) of the best referral for a compact message, if any.

        The entry with the most characters of keyword hits wins; ties go to the entry of
        the longest keyword. Without a keyword (and when `questions`): the entry one of
        whose questions the message mostly repeats (keyword "").
        """
        weight: dict[str, int] = {}
        best_word: dict[str, str] = {}
        if self._pattern is not None:
            for found in self._pattern.finditer(compact):
                keyword = found.group(0)
                entry_id = self._keyword_entry[keyword]
                weight[entry_id] = weight.get(entry_id, 0) + len(keyword)
                if len(keyword) > len(best_word.get(entry_id, "")):
                    best_word[entry_id] = keyword
        if not weight:
            return self._by_question(compact) if questions else None
        entry_id = max(weight, key=lambda e: (weight[e], len(best_word[e])))
        return entry_id, best_word[entry_id]

    def _by_question(self, compact: str) -> tuple[str, str] | None:
        shared: dict[int, int] = {}
        for gram in set(bigrams(compact)):
            for question in self._postings.get(gram, ()):
                shared[question] = shared.get(question, 0) + 1
        best, best_id = 0.0, None
        for question, count in shared.items():
            size, entry_id = self._questions[question]
            if count >= MIN_SHARED and count / size > best:
                best, best_id = count / size, entry_id
        return (best_id, "") if best_id is not None and best >= COVERAGE else None

"""Which referral entry (category `referral` in the knowledge base) a message is about.

Referral entries name another body (燃气公司, 供电局, 开发商, 社区居委会, 12345…) and
the matters it handles; a message is matched by the entries' keywords, the longest and
most numerous hits winning. Pure data: adding an entry needs no code.
"""

from __future__ import annotations

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
        self._keywords: list[tuple[str, str]] = []  # (keyword, entry id), longest first
        self._questions: list[tuple[frozenset[str], str]] = []  # (character pairs, entry id)
        for entry in entries:
            if entry.enabled and is_referral(entry):
                for question in [entry.question, *entry.similar_questions]:
                    grams = frozenset(bigrams(normalize(question)))
                    if grams:
                        self._questions.append((grams, entry.id))
                for keyword in entry.keywords:
                    compact = normalize(keyword).replace(" ", "")
                    if compact:
                        self._keywords.append((compact, entry.id))
        self._keywords.sort(key=lambda pair: -len(pair[0]))

    def __bool__(self) -> bool:
        return bool(self._keywords or self._questions)

    def match(self, compact: str) -> tuple[str, str] | None:
        """(entry id, keyword) of the best referral for a compact message, if any.

        The entry with the most characters of keyword hits wins; ties go to the entry of
        the longest keyword.
        """
        weight: dict[str, int] = {}
        best_word: dict[str, str] = {}
        for keyword, entry_id in self._keywords:
            if keyword in compact:
                weight[entry_id] = weight.get(entry_id, 0) + len(keyword)
                best_word.setdefault(entry_id, keyword)
        if not weight:
            return self._by_question(compact)
        entry_id = max(weight, key=lambda e: (weight[e], len(best_word[e])))
        return entry_id, best_word[entry_id]

    def _by_question(self, compact: str) -> tuple[str, str] | None:
        grams = set(bigrams(compact))
        best, best_id = 0.0, None
        for question, entry_id in self._questions:
            shared = len(question & grams)
            if shared >= MIN_SHARED and shared / len(question) > best:
                best, best_id = shared / len(question), entry_id
        return (best_id, "") if best_id is not None and best >= COVERAGE else None

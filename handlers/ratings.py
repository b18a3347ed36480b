"""The one reader of ratings: 1–5 or 满意/一般/不满意, and the reason said after it.

Used for the conversation rating an agent asks for on closing and for a resolved
ticket's rating; "不满意，楼下还在滴水" is a 1 with the reason "楼下还在滴水".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Longest first: "不满意" contains "满意".
RATING_WORDS = (
    ("非常不满意", 1), ("特别不满意", 1), ("很不满意", 1), ("极不满意", 1), ("不太满意", 2),
    ("不怎么满意", 2), ("不满意", 1), ("非常满意", 5), ("特别满意", 5), ("很满意", 5),
    ("比较满意", 4), ("还算满意", 4), ("满意", 5), ("很差", 1), ("太差了", 1), ("太差", 1),
    ("差评", 1), ("不好", 2), ("一般般", 3), ("一般", 3), ("还行", 3), ("凑合", 3),
    ("还可以", 4), ("挺好", 4), ("还不错", 4), ("不错", 4), ("很好", 5), ("好评", 5),
    ("五星", 5), ("五分", 5), ("四分", 4), ("三分", 3), ("两分", 2), ("二分", 2), ("一分", 1),
)
_DIGIT = re.compile(r"^([1-5])\s*(?:分|星)?(?=$|[\s,，。.!！;；])")
_FULLWIDTH = str.maketrans("１２３４５", "12345")
_LEAD = ("我觉得", "感觉", "我", "评价", "打分", "给", "就")
_PUNCT = " \t,，。.!！~～、;；:：…"
_PARTICLES = "了吧啊呀哦呢啦嘛的"
LOW_SCORE_MAX = 2
SATISFIED_MIN_SCORE = 4  # a conversation rated this or better counts as satisfied (KPI)


@dataclass(frozen=True)
class Rating:
    score: int
    reason: str = ""

    @property
    def unhappy(self) -> bool:
        return self.score <= LOW_SCORE_MAX


def read_rating(text: str) -> Rating | None:
    """A rating at the start of the message (and the reason after it), else None."""
    body = text.strip().translate(_FULLWIDTH)
    for lead in _LEAD:
        if body.startswith(lead) and len(body) > len(lead):
            body = body[len(lead):]
            break
    match = _DIGIT.match(body)
    if match:
        return Rating(int(match.group(1)), _reason(body[match.end():]))
    for word, score in RATING_WORDS:
        if body.startswith(word):
            rest = body[len(word):]
            if rest[:1] and rest[:1] not in _PUNCT + _PARTICLES:
                return None  # 满意度怎么查, 一般什么时候: a question starting with a rating word
            return Rating(score, _reason(rest))
    return None


def parse_rating(text: str) -> int | None:
    """Just the 1–5 score, or None when the text is not a rating."""
    rating = read_rating(text)
    return rating.score if rating else None


def _reason(rest: str) -> str:
    return rest.lstrip(_PARTICLES).strip(_PUNCT)

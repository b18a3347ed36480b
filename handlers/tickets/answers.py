"""Short answers residents give to the bot's questions: yes, no, cancel, skip, ratings."""

from __future__ import annotations

import re

from handlers.tickets.extract import plain
from handlers.tickets.forms import words

_RATING_WORDS = {"非常满意": 5, "很满意": 5, "满意": 5, "挺好": 4, "还不错": 4, "不错": 4,
                 "比较满意": 4, "一般": 3, "还行": 3, "凑合": 3, "不满意": 1, "很不满意": 1,
                 "非常不满意": 1, "不太满意": 2, "差": 1, "很差": 1, "太差了": 1}
_RATING_DIGIT = re.compile(r"^([1-5１-５])\s*(?:分|星)?$")
_LAST4 = re.compile(r"^\D*(\d{4})\D*$")
SHORT = 6


def _short_match(text: str, kind: str) -> bool:
    p = plain(text)
    vocabulary = words(kind)
    return p in vocabulary or (len(p) <= SHORT and any(p.startswith(w) for w in vocabulary))


def is_yes(text: str) -> bool:
    return not is_no(text) and not is_cancel(text) and _short_match(text, "confirm_yes")


def is_no(text: str) -> bool:
    return any(plain(text).startswith(w) for w in words("confirm_no"))


def is_cancel(text: str, yes_no_question: bool = False) -> bool:
    """取消/算了; on a yes/no question 不用了 answers it instead of cancelling."""
    p = plain(text)
    if yes_no_question and p in words("callback_no"):
        return False
    return p in words("cancel") or (len(p) <= SHORT and p.startswith(("取消", "算了")))


def callback_answer(text: str) -> bool | None:
    p = plain(text)
    if any(p.startswith(w) for w in words("callback_no")):
        return False
    if any(p.startswith(w) for w in words("callback_yes")) or p in words("confirm_yes"):
        return True
    return None


def is_closed(text: str) -> bool:
    """A yes/no word (确认, 好的, 需要): it answers a yes/no question and nothing else."""
    p = plain(text)
    return any(p in words(kind) for kind in ("confirm_yes", "confirm_no", "callback_yes",
                                             "callback_no"))


def is_place_word(text: str) -> bool:
    """Only a room or a common area (卫生间, 楼道): a location, never an FAQ question."""
    return plain(text) in words("home") + words("common")


def is_skip(text: str) -> bool:
    return plain(text) in words("skip")


def parse_rating(text: str) -> int | None:
    """满意/一般/不满意 or 1–5 → a 1–5 score; None when the text is not a rating."""
    p = plain(text).replace("分", "") if _RATING_DIGIT.match(plain(text)) else plain(text)
    digit = _RATING_DIGIT.match(p)
    if digit:
        return int(digit.group(1).translate(str.maketrans("１２３４５", "12345")))
    return _RATING_WORDS.get(p.removesuffix("的").removesuffix("吧"))


def last4(text: str) -> str | None:
    match = _LAST4.match(plain(text))
    return match.group(1) if match else None

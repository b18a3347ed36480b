"""Short answers to the bot's questions: yes, no, cancel, skip (ratings: handlers/ratings.py)."""

from __future__ import annotations

import re

from handlers.tickets.extract import plain
from handlers.tickets.forms import words

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


def last4(text: str) -> str | None:
    match = _LAST4.match(plain(text))
    return match.group(1) if match else None

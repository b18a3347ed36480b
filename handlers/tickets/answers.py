"""Short answers to the bot's questions: yes, no, cancel, skip (ratings: handlers/ratings.py)."""

from __future__ import annotations

import re

from handlers.tickets.extract import plain
from handlers.tickets.forms import word_table, words

_LAST4 = re.compile(r"^\D*(\d{4})\D*$")
SHORT = 6


def _short_match(text: str, kind: str) -> bool:
    p = plain(text)
    vocabulary = words(kind)
    return p in vocabulary or (len(p) <= SHORT and any(p.startswith(w) for w in vocabulary))


def is_yes(text: str) -> bool:
    """好的提交吧, 嗯嗯确认, 没问题就这样: only yes-words and fillers, nothing against."""
    p = plain(text).lower()
    if not p or is_no(text) or is_cancel(text):
        return False
    return _made_of(p, words("confirm_yes"), words("confirm_filler"))


def _made_of(text: str, wanted: list[str], filler: list[str]) -> bool:
    """Whether text splits into the words given, at least one of them `wanted`."""
    vocabulary = sorted({w.lower() for w in wanted + filler}, key=len, reverse=True)
    wanted_set = {w.lower() for w in wanted}
    found_wanted = False
    position = 0
    while position < len(text):
        word = next((w for w in vocabulary if text.startswith(w, position)), None)
        if word is None:
            return False
        found_wanted = found_wanted or word in wanted_set
        position += len(word)
    return found_wanted


def is_no(text: str) -> bool:
    """不对, 改一下, 地址错了, 电话写错了: the summary is not right."""
    p = plain(text).replace("没有问题", "").replace("没问题", "").replace("没啥问题", "")
    return any(w in p for w in words("confirm_no"))


def correction_target(text: str, slots: tuple[str, ...]) -> str | None:
    """Which of these slots a correction names (电话写错了 → phone), if any."""
    p = plain(text)
    targets = _targets()
    for slot in targets:  # the table's order: 地址 is the home where one is asked
        if slot in slots and any(w in p for w in targets[slot]):
            return slot
    return None


def _targets() -> dict[str, list[str]]:
    return {k: [str(w) for w in v] for k, v in word_table("correction_targets").items()}


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

"""Steering phrases (handlers/data/phrases.yaml): cancel a person, ask for one, urge, anger.

Each check reads the whole message the way residents type it: without spaces and
punctuation, and for the longer lists as a phrase anywhere in the text.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from core.yamlfile import load_yaml
from handlers.tickets.rules import DATA_DIR

_NOISE = re.compile(r"[\s,，.。!！?？~～、;；:：…]+")
_TICKET_NUMBER = re.compile(r"(?<![A-Za-z0-9])((?:BX|TS|JY|FW|JJ)\d{8}-\d{4})(?!\d)", re.I)
_EXCLAMATIONS = re.compile(r"[!！]")
_LATIN = re.compile(r"[A-Za-z]")
MIN_CAPS_LETTERS = 4
SHORT = 12


@cache
def _table() -> dict[str, Any]:
    return dict(load_yaml(DATA_DIR / "phrases.yaml"))


def phrases(kind: str) -> list[str]:
    return [str(w) for w in _table()[kind]]


def plain(text: str) -> str:
    return _NOISE.sub("", text).lower()


def _exact_or_short(text: str, kind: str) -> bool:
    p = plain(text)
    return p in phrases(kind) or (len(p) <= SHORT and any(w in p for w in phrases(kind)
                                                          if len(w) >= 3))


def cancels_person(text: str) -> bool:
    """取消人工, 不用人工了, 不用了: said while waiting for a person."""
    return _exact_or_short(text, "cancel_person")


def asks_for_person(text: str) -> bool:
    """A short message asking for a person in so many words (转人工, 找真人客服)."""
    return not cancels_person(text) and _short_phrase(text, "ask_person")


def asks_wait_status(text: str) -> bool:
    """人呢, 还要等多久: while waiting, where the resident stands."""
    return not cancels_person(text) and _short_phrase(text, "wait_status")


def _short_phrase(text: str, kind: str) -> bool:
    p = plain(text)
    return p in phrases(kind) or (len(p) <= SHORT and any(w in p for w in phrases(kind)
                                                          if len(w) >= 2))


def asks_capabilities(text: str) -> bool:
    return _exact_or_short(text, "capabilities")


def urges(text: str) -> bool:
    p = plain(text)
    return any(w in p for w in phrases("urge"))


def unhappy(text: str) -> bool:
    p = plain(text)
    return any(w in p for w in phrases("unhappy"))


def wants_resume(text: str) -> bool:
    return plain(text) in phrases("resume")


def ticket_number(text: str) -> str | None:
    match = _TICKET_NUMBER.search(text)
    return match.group(1).upper() if match else None


def is_angry(text: str, exclamations: int) -> bool:
    """Strong words, a burst of exclamation marks, or a sentence in capitals."""
    lowered = text.lower()
    if any(word in lowered for word in phrases("angry")):
        return True
    if len(_EXCLAMATIONS.findall(text)) >= exclamations:
        return True
    letters = _LATIN.findall(text)
    return len(letters) >= MIN_CAPS_LETTERS and all(c.isupper() for c in letters)


def reports_fault_not_binding(text: str) -> bool:
    """七栋一单元六零一…热水器坏了: a fault report that names a home, not a binding."""
    p = plain(text)
    return not any(w in p for w in phrases("bind")) and any(w in p for w in phrases("fault"))


def sounds_dangerous(text: str) -> bool:
    p = plain(text)
    return any(w in p for w in phrases("danger"))

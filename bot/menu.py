"""Menu clicks become decisions directly: a tapped button means exactly one thing."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from core.yamlfile import load_yaml
from nlu.decision import Decision, FaqCandidate

MENU_FILE = Path(__file__).resolve().parent / "menu.yaml"
_CHOICE = re.compile(r"^\s*(?:第)?([1-9１-９一二三四五六七八九])\s*(?:个|项|条)?\s*[。.!！]?\s*$")
_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)} | {
    c: i for i, c in enumerate("１２３４５６７８９", 1)}


_NOISE = re.compile(r"[\s。.,，!！?？~～、…]+")


@cache
def menu_table() -> dict[str, Any]:
    return load_yaml(MENU_FILE)


# Click keys of the pushed custom menu (bot/menu_store.py) beyond menu.yaml's buttons:
# key → {"intent", "text"}; refreshed by each process's reloader.
_live_keys: dict[str, dict[str, Any]] = {}


def set_live_keys(keys: dict[str, dict[str, Any]]) -> None:
    global _live_keys
    _live_keys = dict(keys)


def button(event_key: str) -> dict[str, Any] | None:
    """What a click key stands for: the pushed menu's mapping, else menu.yaml's."""
    return _live_keys.get(event_key) or menu_table()["buttons"].get(event_key)


def command_key(text: str) -> str | None:
    """The button a keyword message stands for ("报修", "我的账单！"), else None."""
    return menu_table()["commands"].get(_NOISE.sub("", text))


def menu_decision(event_key: str) -> Decision | None:
    """The decision a menu button stands for, or None for an unknown key."""
    item = button(event_key)
    if item is None:
        return None
    candidates = [FaqCandidate(faq_id, "", 1.0) for faq_id in item.get("faqs", [])]
    return Decision(text=item["text"], intent=item["intent"], confidence=1.0, margin=1.0,
                    candidates=candidates)


def menu_choice(text: str) -> int | None:
    """A reply like "2", "２", "第二个" picks item 2 of a numbered menu."""
    match = _CHOICE.match(text)
    if not match:
        return None
    digit = match.group(1)
    return _DIGITS.get(digit) or int(digit)


REQUEST_BUTTONS = ("MENU_REPAIR", "MENU_COMPLAINT", "MENU_SUGGESTION")


def request_intent(text: str) -> str | None:
    """我要报修电梯: a message that opens with a request keyword asks for that request,
    whatever follows (the NLU may read the rest as a question)."""
    head = _NOISE.sub("", text)
    commands = menu_table()["commands"]
    buttons = menu_table()["buttons"]
    for word in sorted(commands, key=len, reverse=True):
        if len(word) >= 2 and head.startswith(word) and commands[word] in REQUEST_BUTTONS:
            return str(buttons[commands[word]]["intent"])
    return None

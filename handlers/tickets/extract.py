"""Reading slot values out of a message: NLU entities first, then plain-text patterns.

The NLU may miss an entity (or an external Rasa may send none), so each reader
falls back to a pattern; the words used live in handlers/data/forms.yaml.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.tickets.rooms import Room, parse_phone, parse_room, room_spans

_TIME = re.compile(
    r"((?:今天|明天|后天|大后天|今晚|明晚|这周|本周|下周|周末|这个?周末|下个?周末)?"
    r"(?:周[一二三四五六日天]|星期[一二三四五六日天]|礼拜[一二三四五六日天])?"
    r"(?:\d{1,2}月\d{1,2}[日号]|\d{1,2}[日号])?"
    r"(?:上午|下午|中午|晚上|早上|傍晚|白天|晚间|早晨)?"
    r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})?(?:[点:：时](?:半|\d{1,2}分?)?)?"
    r"(?:前|后|以后|之前|左右|到\d{1,2}点)?)")
_PUNCT = re.compile(r"[\s,，.。!！?？~～、;；:：]+")


def entities(latest: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in latest.get("entities") or [] if e.get("entity") == kind]


def text_of(latest: dict[str, Any]) -> str:
    return str(latest.get("text") or "")


def find_room(latest: dict[str, Any]) -> Room | None:
    for entity in entities(latest, "room"):
        room = Room.from_normalized(entity.get("normalized")) or parse_room(
            str(entity.get("value") or ""))
        if room:
            return room
    return parse_room(text_of(latest))


def find_phone(latest: dict[str, Any]) -> str | None:
    for entity in entities(latest, "phone"):
        phone = parse_phone(str(entity.get("normalized") or entity.get("value") or ""))
        if phone:
            return phone
    return parse_phone(text_of(latest))


def find_time(latest: dict[str, Any]) -> str | None:
    for entity in entities(latest, "time"):
        if entity.get("value"):
            return str(entity["value"])
    spans = [m.group(1) for m in _TIME.finditer(text_of(latest)) if _is_time(m.group(1))]
    return max(spans, key=len) if spans else None


def _is_time(span: str) -> bool:
    return len(span) >= 2 and bool(re.search(r"[天晚周期拜月日号午上晚早点时末]", span)) and \
        span not in ("上", "号", "日", "天")


def find_place(latest: dict[str, Any]) -> str | None:
    for entity in entities(latest, "place"):
        if entity.get("value"):
            return str(entity["value"])
    return None


def find_word(text: str, words: list[str]) -> str | None:
    return next((w for w in words if w in text), None)


def plain(text: str) -> str:
    """Punctuation-free text, for comparing short answers such as 确认 or 取消."""
    return _PUNCT.sub("", text)


def description(text: str, filler: list[str]) -> str:
    """The message without homes and filler phrases: what the resident actually reports."""
    cut = text
    for start, end in sorted(room_spans(text), reverse=True):
        cut = cut[:start] + cut[end:]
    for word in sorted(filler, key=len, reverse=True):
        cut = cut.replace(word, "")
    return cut.strip(" ，,。.!！?？~～、")


def substantive(text: str, minimum: int = 3) -> bool:
    """Enough left to count as a description (not just 我要报修)."""
    return len(plain(text)) >= minimum


_CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|有误|更正一下|改一下)[\s,，。!！]*(?:应该是|应是|是|改成|改为)?")


def strip_correction(text: str) -> str:
    """不对，是明天下午 → 明天下午."""
    return _CORRECTION.sub("", text)

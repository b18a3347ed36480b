"""Reading slot values out of a message: NLU entities first, then plain-text patterns.

The NLU may miss an entity (or an external Rasa may send none), so each reader
falls back to a pattern; the words used live in handlers/data/forms.yaml.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.tickets.forms import words
from handlers.tickets.rooms import Room, parse_phone, parse_room, phone_spans, room_spans

Span = tuple[int, int]

_TIME = re.compile(
    r"((?:今天|明天|后天|大后天|今晚|明晚|这周|本周|下周|周末|这个?周末|下个?周末)?"
    r"(?:周[一二三四五六日天]|星期[一二三四五六日天]|礼拜[一二三四五六日天])?"
    r"(?:\d{1,2}月\d{1,2}[日号]|\d{1,2}[日号](?!楼|栋|单元|房|电梯|门|口|线|车位|库|机|床))?"
    r"(?:上午|下午|中午|晚上|早上|傍晚|白天|晚间|早晨)?"
    r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})?(?:[点:：时](?:半|\d{1,2}分?)?)?"
    r"(?:前|后|以后|之前|左右|到\d{1,2}点)?)")
_PUNCT = re.compile(r"[\s,，.。!！?？~～、;；:：]+")
_SEPARATORS = re.compile(r"\s*[,，、;；](?:[\s,，、;；]*)")
_EDGES = " ，,。.!！?？~～、;；:："


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


def description(text: str, filler: list[str], times: bool = False,
                tail: list[str] | None = None) -> str:
    """What the resident reports, without what other slots hold: homes and phones always
    (a phone never lives in free text), the visiting time when the form asks one, each
    with its lead-in words (电话…, 明天下午有人); and without filler phrases."""
    spans = room_spans(text) + phone_spans(text)
    if times and (span := time_span(text)):
        spans.append(_with_tail(text, span))
    cut = text
    for start, end in reversed(_merge([_with_lead_in(text, span) for span in spans])):
        cut = cut[:start] + " " + cut[end:]
    return _tidy(_strip_edges(_tidy(cut), filler, tail if tail is not None else filler))


def _strip_edges(text: str, filler: list[str], tail: list[str]) -> str:
    """Filler phrases only where they open or close the message (你好，我要报修，…；…麻烦了):
    the resident's words in the middle stay exactly as written (楼上业主装修)."""
    ordered = sorted(filler, key=len, reverse=True)
    while True:
        head = text.lstrip(_EDGES)
        word = next((w for w in ordered if head.startswith(w)), None)
        if word is None:
            break
        text = head[len(word):]
    ending = sorted(tail, key=len, reverse=True)
    while True:
        rest = text.rstrip(_EDGES)
        word = next((w for w in ending if rest.endswith(w) and len(rest) > len(w)), None)
        if word is None:
            return rest
        text = rest[:-len(word)]


def without_phones(text: str) -> str:
    """Free text to keep (a summary, a note): phone numbers and their lead-in words cut out."""
    cut = text
    for start, end in reversed(_merge([_with_lead_in(text, s) for s in phone_spans(text)])):
        cut = cut[:start] + " " + cut[end:]
    return _tidy(cut) if cut != text else text


def time_span(text: str) -> Span | None:
    """Where the time find_time reads from plain text is written."""
    found = [m.span(1) for m in _TIME.finditer(text) if _is_time(m.group(1))]
    return max(found, key=lambda span: span[1] - span[0]) if found else None


def _with_lead_in(text: str, span: Span) -> Span:
    head = text[:span[0]].rstrip(" :：")
    lead = next((w for w in _longest_first("lead_in") if head.endswith(w)), None)
    if lead is None:
        return span
    head = head[:-len(lead)]
    owner = next((w for w in _longest_first("lead_owner") if head.endswith(w)), "")
    return len(head) - len(owner), span[1]


def _with_tail(text: str, span: Span) -> Span:
    rest = text[span[1]:]
    tail = next((w for w in _longest_first("time_tail") if rest.lstrip().startswith(w)), None)
    return (span[0], span[1] + rest.index(tail) + len(tail)) if tail else span


def _longest_first(kind: str) -> list[str]:
    return sorted(words(kind), key=len, reverse=True)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _tidy(text: str) -> str:
    """One comma where cutting left a run of separators; no dangling punctuation."""
    text = re.sub(r"\s{2,}", " ", _SEPARATORS.sub("，", text))
    return text.strip(_EDGES)


def substantive(text: str, minimum: int = 3) -> bool:
    """Enough left to count as a description (not just 我要报修)."""
    return len(plain(text)) >= minimum


_CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|有误|更正一下|改一下)[\s,，。!！]*(?:应该是|应是|是|改成|改为)?")


def strip_correction(text: str) -> str:
    """不对，是明天下午 → 明天下午."""
    return _CORRECTION.sub("", text)

"""Entities residents give in free text: rooms, phones, times and places.

Patterns run on `fold(text)`, which keeps every character in place, so spans are
offsets into the message exactly as the resident wrote it. Chinese numerals are
accepted where digits are, and converted in the normalized value.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from nlu.decision import Entity
from nlu.normalize import CN_NUMERAL, cn_to_int, fold

_CN = f"[{CN_NUMERAL}]"
_NUMERIC = re.compile(rf"\d|{_CN}")
_NUM = rf"(?:\d{{1,3}}|{_CN}{{1,4}})"
_ROOM_NO = rf"(?:\d{{3,4}}|{_CN}{{3,6}})"

_ROOM_PATTERNS = [
    # 12-3-1101, 12-1101
    re.compile(r"(?<![\d-])(?P<b>\d{1,3})-(?P<u>\d{1,2})-(?P<r>\d{3,4})(?![\d-])"),
    re.compile(r"(?<![\d-])(?P<b>\d{1,3})-(?P<r>\d{3,4})(?![\d-])"),
    # 3栋2单元502, 5号楼1802, B座1203, 3幢502室, 十二栋三单元1101, 写字楼B座12楼1201
    re.compile(
        rf"(?P<b>{_NUM}|[a-z])\s*(?:栋|幢|号楼|座|号)\s*"
        rf"(?:(?P<u>{_NUM})\s*单元\s*)?(?:{_NUM}\s*[楼层]\s*)?"
        rf"(?P<r>{_ROOM_NO})(?:\s*(?:室|号|房))?(?!\d)"
    ),
]

_PHONE = re.compile(
    r"(?<!\d)(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4})(?!\d)"
)

_DAY = (
    r"(?:大后天|今天|明天|后天|今晚|明晚|明早|今早|昨天|前天|昨晚|"
    r"(?:下|这|本|上)?(?:周|星期|礼拜)[一二三四五六日天末]|周末|"
    rf"(?:\d{{1,2}}|{_CN}{{1,3}})月(?:(?:\d{{1,2}}|{_CN}{{1,3}})[日号])?|"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})[日号](?![楼栋座单元电梯门线口位柜车床机\d])|"
    rf"国庆节?|春节|元旦|五一|中秋节?|端午节?|过年|(?:腊|正)月{_CN}{{1,3}}|"
    r"月底|月初|年底|下个月|节假日|工作日)"
)
_PERIOD = r"(?:早上|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨|早晨|白天|一早|晚)"
_CLOCK = (
    rf"(?:\d{{1,2}}:\d{{2}}|(?:\d{{1,2}}|{_CN}{{1,3}})[点时](?:半|一刻|(?:\d{{1,2}}|{_CN}{{1,3}})分?)?)"
)
_RANGE = rf"(?:\s*(?:到|至|-|~)\s*{_PERIOD}?{_CLOCK})?"
_TIME = re.compile(
    rf"(?P<day>{_DAY})\s*(?P<period>{_PERIOD})?\s*(?P<clock>{_CLOCK}{_RANGE})?"
    rf"|(?P<period2>{_PERIOD})\s*(?P<clock2>{_CLOCK}{_RANGE})?"
    rf"|(?P<clock3>(?:\d{{1,2}}:\d{{2}}|\d{{1,2}}点(?:半|\d{{1,2}}分?)?){_RANGE})"
)

_PLACE_NOUNS = (
    "地下车库 地下停车场 车库出口 车库入口 停车场 车库 地库 货梯 客梯 电梯厅 电梯 楼道 "
    "楼梯间 楼梯 走廊 大堂 门厅 单元门 门口 东门 西门 南门 北门 大门 岗亭 中心花园 花园 "
    "绿化带 草坪 游泳池 泳池 健身房 会所 垃圾站 垃圾房 快递柜 儿童乐园 游乐场 篮球场 广场 "
    "楼顶 天台 地下室 配电房 水泵房 消防通道 喷泉 凉亭 充电棚 服务中心 前台 外墙 屋顶"
).split()


# Cheap one-character-class checks that let most messages skip the long patterns.
_TIME_HINT = re.compile(r"[天周星礼月号日点时:午晚早夜凌节年末初底腊庆春旦五中端]")


@cache
def _place_hint() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted({noun[0] for noun in _PLACE_NOUNS})) + "]")


@cache
def _place_pattern() -> re.Pattern[str]:
    nouns = "|".join(sorted(_PLACE_NOUNS, key=len, reverse=True))
    return re.compile(
        rf"(?:(?:{_NUM}|[a-z])\s*(?:栋|号楼|幢|座|单元|号)\s*)?(?:{nouns})"
        r"(?:[a-z]\d|\d{1,2}号?|出口|入口|门口)?"
    )


def _num(text: str | None) -> str | None:
    if text is None:
        return None
    if text.isdigit():
        return str(int(text)) if len(text) <= 2 else text
    if text.isalpha() and text.isascii():
        return text.upper()
    value = cn_to_int(text)
    return str(value) if value is not None else text


def _rooms(folded: str) -> list[tuple[int, int, dict[str, Any]]]:
    found: list[tuple[int, int, dict[str, Any]]] = []
    for pattern in _ROOM_PATTERNS:
        for m in pattern.finditer(folded):
            if any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            room = _num(m.group("r"))
            normalized = {
                "building": _num(m.group("b")),
                "unit": _num(m.groupdict().get("u")),
                "room": room,
            }
            found.append((m.start(), m.end(), normalized))
    return found


_CLOCK_PARTS = re.compile(rf"(\d{{1,2}}|{_CN}{{1,3}})(?:[点时:])(半|一刻|\d{{1,2}}|{_CN}{{1,3}})?")
_AFTERNOON = ("下午", "傍晚", "晚上", "晚", "夜里")


def _clock(text: str | None, period: str | None) -> str | None:
    """'三点半' in the afternoon → '15:30'; the first clock of a range."""
    m = _CLOCK_PARTS.search(text or "")
    if m is None:
        return None
    hour = int(_num(m.group(1)) or 0)
    minute_text = m.group(2)
    minute = {"半": 30, "一刻": 15, None: 0}.get(minute_text)
    if minute is None:
        minute = int(_num(minute_text) or 0)
    if period in _AFTERNOON and hour < 12:
        hour += 12
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


def _time_value(m: re.Match[str]) -> dict[str, str | None]:
    from nlu.normalize import normalize

    def norm(value: str | None) -> str | None:
        return normalize(value).replace(" ", "") if value else None

    period = m.group("period") or m.group("period2")
    clock = m.group("clock") or m.group("clock2") or m.group("clock3")
    day = m.group("day")
    evening = period or ("晚上" if day and "晚" in day else None)  # 今晚7点 is 19:00
    return {"day": norm(day), "period": period, "clock": _clock(clock, evening)}


def extract(text: str, folded: str | None = None) -> list[Entity]:
    """All entities of a message, ordered by position (`folded`: fold(text), if known)."""
    if folded is None:
        folded = fold(text)
    entities: list[Entity] = []
    numeric = _NUMERIC.search(folded) is not None  # rooms and phones need digits or numerals
    rooms = _rooms(folded) if numeric else []
    for start, end, normalized in rooms:
        entities.append(Entity("room", text[start:end], start, end, normalized))
    phones = [(m.start(), m.end()) for m in _PHONE.finditer(folded)] if numeric else []
    for start, end in phones:
        digits = re.sub(r"\D", "", folded[start:end])
        entities.append(Entity("phone", text[start:end], start, end, digits))
    taken = [(s, e) for s, e, _ in rooms] + phones
    for m in _TIME.finditer(folded) if _TIME_HINT.search(folded) else ():
        start, end = m.start(), m.end()
        value = text[start:end].strip()
        if not value or any(s < end and start < e for s, e in taken):
            continue
        end = start + len(value)
        entities.append(Entity("time", value, start, end, _time_value(m)))
    for m in _place_pattern().finditer(folded) if _place_hint().search(folded) else ():
        if any(s <= m.start() and m.end() <= e for s, e in phones):
            continue
        span = text[m.start():m.end()]
        entities.append(Entity("place", span, m.start(), m.end(), m.group(0).upper()))
    return sorted(entities, key=lambda e: (e.start, e.type))

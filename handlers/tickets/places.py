"""Common areas written the way residents write them: 5栋楼道, 车库B2, 东门, 3号电梯.

A place is a common-area word (forms.yaml `common`) with what qualifies it on
either side: a building, unit or number before it (5栋2单元, 3号), a level or
number after it (B2, 负一层, 3号口). Homes are rooms (handlers.tickets.rooms).
"""

from __future__ import annotations

import re
from functools import cache

from handlers.tickets.forms import words

_NUM = r"(?:\d{1,3}|[一二两三四五六七八九十]{1,3})"
_BEFORE = re.compile(
    rf"(?:(?:{_NUM}|[A-Za-z])(?:栋|幢|号楼|座|号|期|区)\s*)?(?:{_NUM}单元\s*)?"
    r"(?:(?:后面|前面|旁边|对面|附近|楼下|门口|边上|西边|东边|南边|北边)的?)?"
    rf"(?:地下|地上|负{_NUM}层|[Bb]{_NUM}层?|{_NUM}[层楼]|东|西|南|北|小区|公共)?的?$")
_AFTER = re.compile(
    rf"^(?:\s*(?:[Bb]{_NUM}(?:层|区)?|负{_NUM}层|-{_NUM}层|{_NUM}号?[层楼口区]|{_NUM}号|"
    rf"[A-Za-z]区|(?:东|西|南|北)(?:侧|边|面)?|入口|出口|门口|里面|里|内))?")


# Too vague to send someone to on their own (which lift? which corridor?).
VAGUE = ("电梯", "楼道", "走廊", "楼梯", "楼梯间", "车库", "地下车库", "地库", "门口", "大门",
         "单元门", "单元门口", "过道", "电梯厅", "停车场", "地下室", "小区", "公共区域")


def is_specific(place: str) -> bool:
    """5栋楼道, 车库B2, 东门: somewhere a person can be sent; 电梯 alone is not."""
    return bool(place) and place not in VAGUE


@cache
def _place_words() -> list[str]:
    return sorted(words("common"), key=len, reverse=True)


def find_place_span(text: str) -> tuple[int, int] | None:
    """Where the first common-area place is written, qualifiers included."""
    best: tuple[int, int] | None = None
    for word in _place_words():
        start = text.find(word)
        if start < 0 or (best and best[0] <= start < best[1]):
            continue
        end = start + len(word)
        before = _BEFORE.search(text[:start])
        after = _AFTER.match(text[end:])
        span = (start - len(before.group(0)) if before else start,
                end + (len(after.group(0)) if after else 0))
        if best is None or span[0] < best[0]:
            best = span
    return best


def find_place_text(text: str) -> str | None:
    """The place as written (5栋楼道, 地下车库B2, 3号电梯), or None."""
    span = find_place_span(text)
    if span is None:
        return None
    place = text[span[0]:span[1]].strip()
    place = re.sub(r"(?:里面|里|内)$", "", place) or place
    return place.replace("的", "") if len(place) > 2 else place


_BUILDING = re.compile(rf"(?:{_NUM}|[A-Za-z])(?:栋|幢|号楼|座)(?:\s*{_NUM}单元)?")


def find_building_text(text: str) -> str | None:
    """A building (and unit) named without a room: 10栋2单元, 5号楼."""
    match = _BUILDING.search(text)
    return match.group(0) if match else None

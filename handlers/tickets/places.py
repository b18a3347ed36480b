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
    rf"(?:地下|地上|负{_NUM}层|[Bb]{_NUM}层?|{_NUM}[层楼]|东|西|南|北|小区|公共)?$")
_AFTER = re.compile(
    rf"^(?:\s*(?:[Bb]{_NUM}(?:层|区)?|负{_NUM}层|-{_NUM}层|{_NUM}号?[层楼口区]|{_NUM}号|"
    rf"[A-Za-z]区|(?:东|西|南|北)(?:侧|边|面)?|入口|出口|门口|里面|里|内))?")


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
    return re.sub(r"(?:里面|里|内)$", "", place) or place

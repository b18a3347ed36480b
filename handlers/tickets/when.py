"""Times residents give (明天下午, 周六上午10点, 下个月1号) resolved to dates and echoed back.

The resolved form names the date and weekday (11月19日（周四）下午), so the resident
sees at once whether the bot understood; the words that are no time (就是我家) are
no time at all. "Today" is the service clock's (config.handoff.clock in tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = "一二三四五六日"
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
           "九": 9, "十": 10, "十一": 11, "十二": 12}
_N = r"(\d{1,2}|十[一二]?|[一二两三四五六七八九])"
_DAY_WORDS = {"今天": 0, "今日": 0, "今晚": 0, "今早": 0, "明天": 1, "明日": 1, "明晚": 1,
              "明早": 1, "后天": 2, "大后天": 3}
_RELATIVE = re.compile("|".join(sorted(_DAY_WORDS, key=len, reverse=True)))
_WEEKDAY = re.compile(r"(这个?|本|下个?)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_WEEKEND = re.compile(r"(这|本|下个?)?周末")
_MONTH_DAY = re.compile(rf"{_N}月{_N}[日号]?")
_NEXT_MONTH_DAY = re.compile(rf"(下个?月|本月|这个?月){_N}[日号]")
_DAY_ONLY = re.compile(rf"(?<![月\d]){_N}[日号](?!楼|栋|单元|房|电梯|门|口|线|车位|库|机|床)")
_PART = re.compile(r"上午|下午|中午|晚上|早上|傍晚|白天|晚间|早晨|凌晨|夜里")
_CLOCK = re.compile(rf"{_N}(?:[点时:：](?:半|\d{{1,2}}分?)?)(?:[到至\-~]{_N}[点时])?"
                    r"(?:前|后|以前|以后|之前|之后|左右)?")
_ANY = ("随时", "都可以", "都行", "任何时间", "尽快", "越快越好", "马上", "什么时候都", "有空就")


@dataclass(frozen=True)
class When:
    day: date | None
    part: str  # 上午 / 下午3点 / ...
    anytime: bool = False
    said: str = ""  # the resident's own day word (明天, 周六), kept in the echo

    def display(self) -> str:
        """明天上午（11月19日 周四）, 12月1日（周二）上午: their words and the date."""
        if self.anytime:
            return "随时"
        if self.day is None:
            return self.part
        weekday = f"周{WEEKDAYS[self.day.weekday()]}"
        if self.said:
            named = re.search(r"周[一二三四五六日天1-7]|星期|礼拜", self.said)
            tail = "" if named else f" {weekday}"
            return f"{self.said}{self.part}（{self.day.month}月{self.day.day}日{tail}）"
        return f"{self.day.month}月{self.day.day}日（{weekday}）{self.part}"


def _num(text: str) -> int:
    return int(text) if text.isdigit() else _CN_NUM.get(text, 0)


def _weekday(match: re.Match[str], today: date) -> date:
    which, name = match.group(1) or "", match.group(2)
    target = 6 if name in "日天7" else ("一二三四五六".index(name) if not name.isdigit()
                                       else int(name) - 1)
    monday = today - timedelta(days=today.weekday())
    if which.startswith("下"):
        return monday + timedelta(days=7 + target)
    day = monday + timedelta(days=target)
    return day if day >= today or which else day + timedelta(days=7)


def _next_month(today: date, day: int) -> date | None:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day(text: str, today: date) -> date | None:
    if (m := _NEXT_MONTH_DAY.search(text)):
        if m.group(1).startswith("下"):
            return _next_month(today, _num(m.group(2)))
        return _safe(today.year, today.month, _num(m.group(2)))
    if (m := _MONTH_DAY.search(text)):
        found = _safe(today.year, _num(m.group(1)), _num(m.group(2)))
        if found and found < today:
            found = _safe(today.year + 1, found.month, found.day)
        return found
    if (m := _RELATIVE.search(text)):
        return today + timedelta(days=_DAY_WORDS[m.group(0)])
    if (m := _WEEKDAY.search(text)):
        return _weekday(m, today)
    if (m := _WEEKEND.search(text)):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        return saturday + timedelta(days=7) if (m.group(1) or "").startswith("下") else saturday
    if (m := _DAY_ONLY.search(text)):
        day = _num(m.group(1))
        found = _safe(today.year, today.month, day)
        return found if found and found >= today else _next_month(today, day)
    return None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_when(text: str, today: date) -> When | None:
    """The time in the text, resolved against today; None when the text names no time."""
    if any(word in text for word in _ANY):
        return When(None, "", anytime=True)
    day = _day(text, today)
    said = next((m.group(0) for m in (_RELATIVE.search(text), _WEEKDAY.search(text),
                                      _WEEKEND.search(text)) if m), "")
    if _NEXT_MONTH_DAY.search(text) or _MONTH_DAY.search(text):
        said = ""
    said = {"今晚": "今天", "明晚": "明天", "今早": "今天", "明早": "明天"}.get(said, said)
    part = _PART.search(text)
    clock = _CLOCK.search(text)
    evening = re.search(r"今晚|明晚", text)
    pieces = [part.group(0) if part else ("晚上" if evening else "")]
    if clock and (clock.group(0)[-1] not in "日号" and re.search(r"[点时:：]", clock.group(0))):
        pieces.append(clock.group(0))
    part_text = "".join(pieces)
    if day is None and not part_text:
        return None
    return When(day, part_text, said=said)

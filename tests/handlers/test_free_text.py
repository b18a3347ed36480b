"""Free text kept and shown: what is cut from a description, how a long one is shortened."""

from __future__ import annotations

import pytest

from handlers.tickets.extract import description, without_phones
from handlers.tickets.forms import words
from handlers.tickets.rooms import mask_phones
from handlers.tickets.views import brief


@pytest.mark.parametrize(("text", "times", "expected"), [
    ("卫生间下水道堵了 3栋2单元502 电话13800138000 明天下午有人", True, "卫生间下水道堵了"),
    ("3栋2单元502厨房水龙头漏水了，电话13912345678，明天上午来修", True, "厨房水龙头漏水了"),
    ("房号3-2-502 客厅灯不亮，手机号是138 0013 8000", True, "客厅灯不亮"),
    ("昨晚10点楼上还在装修 联系方式：13912345678", False, "昨晚10点楼上还在装修"),
], ids=["probe", "commas", "lead-ins-and-spaced-phone", "complaint-keeps-its-time"])
def test_description_cuts_what_other_slots_hold(text: str, times: bool, expected: str) -> None:
    assert description(text, words("filler"), times=times) == expected


def test_phones_are_cut_or_masked_in_free_text() -> None:
    assert without_phones("电梯困人了 我电话13800138000") == "电梯困人了"
    assert mask_phones("回电138 0013 8000或021-61234567") == "回电138****8000或021****4567"


@pytest.mark.parametrize(("text", "expected"), [
    ("卫生间下水道堵了", "卫生间下水道堵了"),
    ("厨房水槽下面的排水管接口一直在滴水，柜子里都泡烂了", "厨房水槽下面的排水管接口一直在…"),
    ("小区东门的道闸坏了车辆进不来出不去", "小区东门的道闸坏了车辆进不来…"),
    ("卫生间下水道堵了，电话13800138000明天下午", "卫生间下水道堵了…"),
], ids=["short", "between-words", "not-inside-a-word", "at-a-pause"])
def test_brief(text: str, expected: str) -> None:
    assert brief(text) == expected

"""Confirm and correct in natural words: the table of ways residents say yes and no."""

from __future__ import annotations

import pytest

from handlers.tickets.answers import correction_target, is_no, is_yes

YES = [
    "好的提交吧", "没问题", "可以", "对的", "就这样", "嗯嗯确认", "行", "提交", "ok", "OK！",
    "好的", "确认", "没错", "是的", "对", "嗯", "好滴", "好嘞", "可以的", "确认无误",
    "没问题提交吧", "对没问题", "都对", "就这些", "行吧", "没毛病", "可以提交", "麻烦提交一下",
    "好的谢谢", "对的对的", "确定", "okay", "嗯对", "提交吧谢谢", "那就这样吧", "就按这个来",
    "是这样", "同意", "可以了", "没有问题", "好了", "对头", "正确", "没啥问题", "确认提交",
    "都没问题", "就这样提交吧", "好的麻烦了", "嗯嗯", "恩恩", "好的没问题", "可以可以",
    "行行行", "对对对", "没错提交吧", "信息都对", "好的确认", "👍", "Ok的", "好，提交。",
    "嗯，没问题", "对，就这样", "是的，确认", "好的，麻烦你们了",
]
NO = [
    "不对", "改一下", "地址错了", "电话写错了", "错了", "不是", "房号不对", "时间不对", "要改",
    "修改一下", "等一下", "有误", "不正确", "写错了", "号码错了", "位置错了", "不太对",
    "先别提交", "手机号填错了", "不对，是3栋2单元503",
]
NEITHER = ["这个要多久", "物业费怎么交", "我要报修", "取消", "算了", "你好", "谢谢你们", "啊"]


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert is_yes(text) and not is_no(text)


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert is_no(text) and not is_yes(text)


@pytest.mark.parametrize("text", NEITHER)
def test_neither(text: str) -> None:
    assert not is_yes(text)


def test_the_table_is_big_enough() -> None:
    assert len(YES) + len(NO) >= 60


@pytest.mark.parametrize(("text", "slot"), [
    ("电话写错了", "phone"), ("手机号不对", "phone"), ("房号错了", "room"),
    ("地址错了", "room"), ("位置不对", "location"), ("时间改一下", "visit_time"),
    ("不对", None),
])
def test_correction_names_the_answer(text: str, slot: str | None) -> None:
    slots = ("problem", "location", "room", "phone", "visit_time")
    assert correction_target(text, slots) == slot

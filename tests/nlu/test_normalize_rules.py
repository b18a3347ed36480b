"""Normalization (width, traditional, typos, dialect, numerals) and the emergency rules."""

from __future__ import annotations

import pytest

from nlu.normalize import cn_to_int, fold, normalize
from nlu.rules import asks, is_emergency, looks_like_question


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("物叶费咋交啊？？", "物业费怎么交啊"),
        ("我想報修，廁所漏水", "我想报修 厕所漏水"),
        ("ＡＢＣ１２３　你好", "abc123 你好"),
        ("在么", "在吗"),
        ("木有热水 咋整", "没有热水 怎么办"),
        ("十二栋三单元一一零一", "12栋3单元1101"),
        ("一下子", "一下子"),
        ("快一点", "快一点"),
        ("圆通快递丢件", "外部公司快递丢件"),
        ("好的👍", "好的赞"),
        ("在超市把门卡弄丢了", "在超市把门禁卡弄丢了"),
        ("房门卡住了", "房门卡住了"),  # a door that sticks is no card
        ("小泰迪也要牵绳吗", "小狗也要牵绳吗"),
        ("快递locker在哪", "快递柜在哪"),
        ("物业管理费多少", "物业费多少"),
        ("门禁咔丢了", "门禁卡丢了"),
        ("access card丢了", "门禁卡丢了"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_fold_keeps_every_offset() -> None:
    text = "３栋２單元５０２ 電梯壞了😭"
    assert len(fold(text)) == len(text)
    assert fold(text).startswith("3栋2单元502")


@pytest.mark.parametrize(("numeral", "value"),
                         [("十二", 12), ("二十", 20), ("一千一百零一", 1101), ("一一零一", 1101),
                          ("两", 2), ("abc", None)])
def test_chinese_numerals(numeral: str, value: int | None) -> None:
    assert cn_to_int(numeral) == value


@pytest.mark.parametrize(
    "text",
    ["着火了", "煤气味很重", "电梯困人了", "水管爆了", "有人晕倒了", "有小偷在撬门",
     "地库淹到膝盖了", "插座冒火花", "救命", "有个人在撬我对门的锁", "电梯里关着我家老人",
     "3号楼电梯里有人 门打不开", "孩子被锁在里面了", "有人闯进我家了",
     "燃气管那边一直嘶嘶响", "楼道里天然气的味道好重", "有个陌生人在我家门口徘徊 还拧门把手",
     "家里有股臭鸡蛋味", "闻到怪味 不敢开火", "走廊全是烟 烟感报警器在响", "配电箱滋滋响",
     "卫生间插座噼里啪啦的", "someone is stuck in the lift", "I smell gas in the stairwell"],
)
def test_emergencies_are_caught_by_rule(text: str) -> None:
    assert is_emergency(normalize(text))


@pytest.mark.parametrize(
    "text",
    ["热水器打不着火", "楼道堆杂物有火灾隐患", "下周消防演练", "燃气费怎么交", "电梯按钮坏了",
     "报警器一直响", "电梯门关不上", "钥匙锁在家里了进不去", "燃气费在哪交",
     "天然气开户要带什么", "门把手松了 帮忙修一下", "烟感报警器坏了", "路面塌了个坑",
     "电动车报警器半夜老响", "楼道堆的纸箱怕着火 你们管管", "开关冒过火花 已经关了闸 来修一下"],
)
def test_talk_about_risks_is_not_an_emergency(text: str) -> None:
    assert not is_emergency(normalize(text))


@pytest.mark.parametrize(("text", "asks"),
                         [("物业费多少钱", True), ("能不能装防盗网", True), ("还保修不", True),
                          ("马桶堵了", False)])
def test_question_shape(text: str, asks: bool) -> None:
    assert looks_like_question(normalize(text)) is asks


@pytest.mark.parametrize(
    ("clause", "asking"),
    [("物业费能在手机上交吗", True), ("电话多少", True), ("包不包括电梯保养", True),
     ("有没有教练", True), ("刚搬来找不到", False), ("不想跑一趟", False), ("我存1个备用", False)],
)
def test_a_clause_asks_by_its_question_markers(clause: str, asking: bool) -> None:
    assert asks(clause) is asking

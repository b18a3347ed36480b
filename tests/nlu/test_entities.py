"""Rooms, phones, times and places across the formats residents use."""

from __future__ import annotations

from typing import Any

import pytest

from nlu.entities import extract


def _only(text: str, kind: str) -> Any:
    found = [e for e in extract(text) if e.type == kind]
    assert len(found) == 1, (text, found)
    entity = found[0]
    assert text[entity.start:entity.end] == entity.value
    return entity


@pytest.mark.parametrize(
    ("text", "building", "unit", "room"),
    [
        ("3栋2单元502", "3", "2", "502"),
        ("12-3-1101", "12", "3", "1101"),
        ("5号楼1802", "5", None, "1802"),
        ("B座1203", "B", None, "1203"),
        ("3幢502室", "3", None, "502"),
        ("十二栋三单元1101", "12", "3", "1101"),
        ("我是8栋1单元602的业主", "8", "1", "602"),
        ("我家五栋一单元六零二", "5", "1", "602"),
        ("d座606 我是业主", "D", None, "606"),
        ("３栋２单元５０２卫生间漏水", "3", "2", "502"),
        ("写字楼B座12楼1201的空调", "B", None, "1201"),
    ],
    ids=lambda v: str(v),
)
def test_rooms_are_normalized_to_building_unit_room(
    text: str, building: str, unit: str | None, room: str
) -> None:
    entity = _only(text, "room")
    assert entity.normalized == {"building": building, "unit": unit, "room": room}


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("手机138 0013 8000", "13800138000"),
        ("电话15067239981 周日上午方便", "15067239981"),
        ("打138-0013-8000找我", "13800138000"),
        ("座机0571-88886666", "057188886666"),
    ],
)
def test_phones_are_digits_only(text: str, digits: str) -> None:
    assert _only(text, "phone").normalized == digits


@pytest.mark.parametrize(
    ("text", "value", "normalized"),
    [
        ("明天上午", "明天上午", {"day": "明天", "period": "上午", "clock": None}),
        ("周六下午三点", "周六下午三点", {"day": "周六", "period": "下午", "clock": "15:00"}),
        ("11月25日上午10:30来", "11月25日上午10:30", {"day": "11月25日", "period": "上午",
                                                       "clock": "10:30"}),
        ("后天中午送货", "后天中午", {"day": "后天", "period": "中午", "clock": None}),
        ("晚上八点半以后", "晚上八点半", {"day": None, "period": "晚上", "clock": "20:30"}),
    ],
)
def test_times(text: str, value: str, normalized: dict[str, Any]) -> None:
    entity = _only(text, "time")
    assert entity.value == value
    assert entity.normalized == normalized


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("地下车库B2", "地下车库B2"),
        ("地下车库b1有根灯管一直在闪", "地下车库b1"),
        ("14栋电梯困人了", "14栋电梯"),
        ("3号楼门口的台阶砖翘起来了", "3号楼门口"),
        ("2号电梯停了", "2号电梯"),
        ("东门的闸机坏了", "东门"),
        ("5栋楼道灯不亮", "5栋楼道"),
    ],
)
def test_places(text: str, value: str) -> None:
    assert _only(text, "place").value == value


def test_a_message_with_everything() -> None:
    text = "报修 3栋2单元502 厨房漏水 周六下午三点在家 手机138 0013 8000"
    kinds = {e.type: e for e in extract(text)}
    assert set(kinds) == {"room", "time", "phone"}
    assert kinds["room"].normalized == {"building": "3", "unit": "2", "room": "502"}
    assert kinds["phone"].normalized == "13800138000"


@pytest.mark.parametrize("text", ["快一点好吗", "18号楼", "帮我看一下", "物业费多少钱一平"])
def test_no_false_times(text: str) -> None:
    assert not [e for e in extract(text) if e.type == "time"]


def test_tonight_is_evening() -> None:
    assert _only("今晚7点到10点加班", "time").normalized["clock"] == "19:00"

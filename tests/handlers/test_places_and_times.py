"""Places residents name (5栋楼道, 车库B2, 东门) and times resolved to dates."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.tickets.places import find_building_text, find_place_text, is_specific
from handlers.tickets.when import read_when

WEDNESDAY = date(2026, 11, 18)


@pytest.mark.parametrize(("text", "place"), [
    ("5栋楼道的灯坏了", "5栋楼道"), ("地下车库B2的灯不亮了", "地下车库B2"),
    ("东门的道闸抬不起来", "东门"), ("3号电梯按钮失灵", "3号电梯"),
    ("5栋2单元的电梯不动了", "5栋2单元电梯"), ("车库负一层有积水", "车库负一层"),
    ("B2车库漏水", "B2车库"), ("3号楼后面的路灯坏了", "3号楼后面路灯"),
    ("我家卫生间漏水", None), ("3栋2单元502", None),
])
def test_places(text: str, place: str | None) -> None:
    assert find_place_text(text) == place


def test_vague_places_are_not_enough_to_send_someone() -> None:
    assert not is_specific("电梯") and not is_specific("楼道") and is_specific("5栋楼道")
    assert find_building_text("10栋2单元，停在7楼和8楼之间") == "10栋2单元"


@pytest.mark.parametrize(("text", "shown"), [
    ("明天下午", "明天下午（11月19日 周四）"),
    ("下个月1号", "12月1日（周二）"),
    ("周六上午", "周六上午（11月21日）"),
    ("下周三下午3点到5点", "下周三下午3点到5点（11月25日）"),
    ("这周末", "这周末（11月21日 周六）"),
    ("11月25日下午2点", "11月25日（周三）下午2点"),
    ("25号", "11月25日（周三）"),
    ("今晚8点以后", "今天晚上8点以后（11月18日 周三）"),
    ("随时都可以", "随时"),
    ("就是我家", None), ("3号电梯坏了", None), ("5栋楼道", None), ("3栋2单元502", None),
])
def test_times_resolved_and_echoed(text: str, shown: str | None) -> None:
    found = read_when(text, WEDNESDAY)
    assert (found.display() if found else None) == shown

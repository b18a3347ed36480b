"""Rooms written many ways are one home; phones are masked."""

from __future__ import annotations

import pytest

from handlers.ratings import parse_rating
from handlers.tickets.answers import is_cancel, is_yes
from handlers.tickets.rooms import Room, mask_phone, parse_room


@pytest.mark.parametrize(("text", "key"), [
    ("3-2-502", "3-2-502"),
    ("3栋2单元502", "3-2-502"),
    ("我家是3栋2单元502室", "3-2-502"),
    ("三栋二单元五零二", "3-2-502"),
    ("12-3-1101", "12-3-1101"),
    ("5号楼1802", "5--1802"),
    ("B座1203", "B--1203"),
    ("不对，是3栋2单元503", "3-2-503"),
])
def test_rooms_reduce_to_one_key(text: str, key: str) -> None:
    room = parse_room(text)
    assert room is not None and room.key == key


def test_no_room_in_plain_text() -> None:
    assert parse_room("卫生间下水道堵了") is None


def test_normalized_entity_and_text_agree() -> None:
    from_entity = Room.from_normalized({"building": "3", "unit": "2", "room": "502"})
    assert from_entity == parse_room("3-2-502")
    assert from_entity is not None and from_entity.display == "3栋2单元502"


def test_phone_is_masked() -> None:
    assert mask_phone("13800138000") == "138****8000"


@pytest.mark.parametrize(("text", "score"), [
    ("满意", 5), ("一般", 3), ("不满意", 1), ("5分", 5), ("2", 2), ("你好", None)])
def test_ratings(text: str, score: int | None) -> None:
    assert parse_rating(text) == score


def test_short_answers() -> None:
    assert is_yes("确认") and is_yes("对的") and not is_yes("不对，是503")
    assert is_cancel("算了") and is_cancel("取消")
    assert not is_cancel("不用了", yes_no_question=True)

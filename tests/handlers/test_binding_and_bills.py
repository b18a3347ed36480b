"""Binding a home with the roster's phone digits, unbinding, and household bills."""

from __future__ import annotations

from typing import Any

from handlers.tickets.inspect import bound_rooms

NEW = "o_bind_new"


def test_binding_with_the_right_digits(pusher: Any, services: Any, households: Any) -> None:
    ask = pusher.text(NEW, "我是3-2-502的业主")
    assert "后4位" in ask.text
    done = pusher.text(NEW, "8000")
    assert "绑定成功" in done.text and "3栋2单元502" in done.text
    assert bound_rooms(services.sessions, NEW) == ["3栋2单元502"]


def test_a_family_member_binds_the_same_room_with_their_phone(
        pusher: Any, services: Any, bound: str) -> None:
    pusher.text(NEW, "绑定房号3栋2单元502")
    assert "绑定成功" in pusher.text(NEW, "9000").text
    assert bound_rooms(services.sessions, NEW) == bound_rooms(services.sessions, bound)


def test_wrong_digits_are_refused_politely_and_attempts_are_limited(
        pusher: Any, services: Any, households: Any) -> None:
    pusher.text(NEW, "绑定房号3栋2单元502")
    first = pusher.text(NEW, "1234")
    assert "不一致" in first.text and "2次" in first.text
    assert "13800138000" not in first.text and "张伟" not in first.text
    pusher.text(NEW, "4321")
    locked = pusher.text(NEW, "1111")
    assert "服务中心" in locked.text
    assert bound_rooms(services.sessions, NEW) == []
    again = pusher.text(NEW, "绑定房号3栋2单元502")
    assert "服务中心" in again.text and "后4位" not in again.text


def test_a_room_not_on_the_roster_is_not_bound(pusher: Any, services: Any,
                                               households: Any) -> None:
    reply = pusher.text(NEW, "绑定房号9栋9单元909")
    assert "没有查到" in reply.text
    assert services.states.load(NEW).active_loop is None


def test_unbinding(pusher: Any, services: Any, bound: str) -> None:
    reply = pusher.text(bound, "解绑3栋2单元502")
    assert "解除" in reply.text
    assert bound_rooms(services.sessions, bound) == []


def test_bill_query_for_a_bound_household(pusher: Any, bound: str) -> None:
    reply = pusher.text(bound, "我家还欠多少物业费")
    assert "1410.00元" in reply.text and "停车管理费" in reply.text
    assert "2026-Q3" not in reply.text  # paid bills are not owed
    assert "缴费方式" in reply.text


def test_bill_query_unbound_shows_no_household_data(pusher: Any, households: Any) -> None:
    reply = pusher.text(NEW, "我家还欠多少物业费")
    assert "绑定房屋" in reply.text and "元" not in reply.text

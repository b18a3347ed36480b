"""A question the resident did not answer, through the signed webhook: what was taken
instead is acknowledged, the question comes back with a hint, never verbatim."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.tickets.inspect import tickets_for

NEW = "o_reask_new"
ASK_PHONE = "请留一个方便联系您的手机号码"
PHONE_HINT = "请提供11位手机号码，例如138 0013 8000"
OFFER = "回复“人工”"


def asked_for_phone(pusher: Any) -> None:
    """An unbound resident's repair form, now asking for the phone."""
    pusher.text(NEW, "卫生间下水道堵了")
    assert ASK_PHONE in pusher.text(NEW, "3栋2单元502").text


def slots(services: Any) -> dict[str, Any]:
    return dict(services.states.load(NEW).slots)


def test_an_answer_for_another_slot_is_recorded_and_the_phone_asked_again(
        pusher: Any, services: Any) -> None:
    asked_for_phone(pusher)
    reply = pusher.text(NEW, "明天上午")
    assert "已为您记下上门时间：明天上午" in reply.text
    assert PHONE_HINT in reply.text and ASK_PHONE not in reply.text
    assert slots(services)["visit_time"].startswith("明天上午（")  # resolved to a date
    assert slots(services)["requested_slot"] == "phone"
    summary = pusher.text(NEW, "13912345678")
    assert "请您核对" in summary.text and "上门时间：明天上午" in summary.text
    assert "form_retries" not in slots(services)


def test_an_answer_that_fits_nothing_is_explained_and_then_a_person_offered(
        pusher: Any, services: Any) -> None:
    asked_for_phone(pusher)
    first = pusher.text(NEW, "确认")
    assert "没能从您的回复中识别出联系电话" in first.text and PHONE_HINT in first.text
    assert ASK_PHONE not in first.text and OFFER not in first.text
    assert slots(services).get("phone") is None
    assert OFFER not in pusher.text(NEW, "好的").text
    third = pusher.text(NEW, "确认")
    assert OFFER in third.text and "回复“取消”" in third.text and PHONE_HINT in third.text
    assert services.states.load(NEW).active_loop == "repair_form"
    assert "没有创建工单" in pusher.text(NEW, "取消").text
    assert tickets_for(services.sessions, NEW) == []


def test_an_incomplete_number_says_what_is_wrong(pusher: Any, services: Any) -> None:
    asked_for_phone(pusher)
    reply = pusher.text(NEW, "1391234567")
    assert "不完整" in reply.text and "138 0013 8000" in reply.text
    assert slots(services).get("phone") is None


@pytest.mark.parametrize("request_again", ["报修", "我要报修", "我还要报修"],
                         ids=["bare", "with-filler", "again"])
def test_the_form_request_again_is_no_answer(pusher: Any, services: Any,
                                             request_again: str) -> None:
    asked_for_phone(pusher)
    reply = pusher.text(NEW, request_again)
    assert "您的报修正在登记中" in reply.text and PHONE_HINT in reply.text
    state = services.states.load(NEW)
    assert state.active_loop == "repair_form" and state.slots["requested_slot"] == "phone"
    assert state.slots.get("phone") is None and state.slots.get("visit_time") is None
    assert state.slots["problem"] == "卫生间下水道堵了"


def test_a_repeated_repair_is_not_taken_as_the_visiting_time(pusher: Any, services: Any,
                                                             bound: str) -> None:
    assert "上门" in pusher.text(bound, "厨房水龙头漏水了").text
    reply = pusher.text(bound, "厨房水龙头又漏水了")
    assert "您的报修正在登记中" in reply.text and "方便上门的时间" in reply.text
    state = services.states.load(bound)
    assert state.slots.get("visit_time") is None
    assert state.slots["problem"] == "厨房水龙头漏水了"
    assert "请您核对" in pusher.text(bound, "明天上午").text


def test_a_bare_booking_request_is_not_the_booking_time(pusher: Any, services: Any,
                                                        bound: str) -> None:
    assert "什么时间" in pusher.text(bound, "我要预约保洁").text
    reply = pusher.text(bound, "预约")
    assert "您的服务预约正在登记中" in reply.text and "11月25日下午2点" in reply.text
    assert services.states.load(bound).slots.get("when") is None


def test_a_bare_complaint_request_asks_for_the_details_again(pusher: Any,
                                                             services: Any) -> None:
    pusher.text(NEW, "我要投诉")
    reply = pusher.text(NEW, "投诉")
    assert "您的投诉正在登记中" in reply.text and "具体情况" in reply.text
    assert services.states.load(NEW).slots.get("details") is None


def test_a_yes_word_is_no_visiting_time(pusher: Any, services: Any, bound: str) -> None:
    pusher.text(bound, "厨房水龙头漏水了")
    reply = pusher.text(bound, "好的")
    assert "没能从您的回复中识别出上门时间" in reply.text and "随时" in reply.text
    assert services.states.load(bound).slots.get("visit_time") is None


def test_a_correction_is_acknowledged_not_called_a_failure(pusher: Any, services: Any) -> None:
    asked_for_phone(pusher)
    reply = pusher.text(NEW, "不对，是3栋2单元503")
    assert "房号已更正为：3栋2单元503" in reply.text
    assert "还需要您的联系电话" in reply.text and "没能" not in reply.text
    pusher.text(NEW, "确认")
    assert OFFER not in pusher.text(NEW, "确认").text  # two failures so far, not three


def test_binding_asked_for_again_asks_for_the_digits(pusher: Any, services: Any,
                                                     households: Any) -> None:
    assert "房号" in pusher.text(NEW, "绑定房屋").text
    assert "后4位" in pusher.text(NEW, "3栋2单元502").text
    reply = pusher.text(NEW, "绑定房屋")
    assert "房屋绑定正在进行中" in reply.text and "请输入4位数字" in reply.text
    assert services.states.load(NEW).active_loop == "bind_form"
    assert "绑定成功" in pusher.text(NEW, "8000").text

"""Ticket forms through the signed webhook, as a resident meets them on WeChat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models import Ticket
from handlers.tickets.inspect import tickets_for

NEW = "o_flow_new"


def tickets(services: Any, openid: str) -> list[dict[str, Any]]:
    return tickets_for(services.sessions, openid)


def test_repair_asks_for_the_missing_room_then_confirms(pusher: Any, services: Any,
                                                         households: Any) -> None:
    first = pusher.text(NEW, "卫生间下水道堵了")
    assert "房号" in first.text and first.text.startswith("您好")
    assert "请告诉我房号" in first.text
    assert "手机号" in pusher.text(NEW, "3栋2单元502").text
    assert "上门" in pusher.text(NEW, "13912345678").text
    summary = pusher.text(NEW, "明天上午")
    assert "请您核对" in summary.text and "3栋2单元502" in summary.text
    assert "139****5678" in summary.text and "13912345678" not in summary.text
    assert "家中卫生间" in summary.text and "明天上午" in summary.text
    assert tickets(services, NEW) == []
    done = pusher.text(NEW, "确认")
    [ticket] = tickets(services, NEW)
    assert ticket["number"].startswith("BX") and ticket["number"] in done.text
    assert "24小时内响应" in done.text and "请问还有什么可以帮您" in done.text
    assert (ticket["type"], ticket["department"], ticket["priority"], ticket["room"]) == (
        "repair", "工程部", "P3", "3栋2单元502")
    assert services.states.load(NEW).active_loop is None


def test_repair_with_everything_in_the_first_message_goes_straight_to_the_summary(
        pusher: Any, services: Any) -> None:
    summary = pusher.text(NEW, "3栋2单元502厨房水龙头漏水了，电话13912345678，明天上午来修")
    assert "请您核对" in summary.text
    assert "请告诉我房号" not in summary.text and "手机号码" not in summary.text
    assert "家中厨房" in summary.text and "明天上午" in summary.text
    pusher.text(NEW, "对的")
    assert len(tickets(services, NEW)) == 1


def test_bound_resident_is_not_asked_for_room_or_phone(pusher: Any, services: Any,
                                                        bound: str) -> None:
    question = pusher.text(bound, "厨房水龙头漏水了")
    assert "上门" in question.text
    summary = pusher.text(bound, "周六下午3点")
    assert "3栋2单元502" in summary.text and "138****8000" in summary.text


def test_a_correction_replaces_the_room(pusher: Any, services: Any, bound: str) -> None:
    pusher.text(bound, "3栋2单元502厨房水龙头漏水了，明天上午来修")
    corrected = pusher.text(bound, "不对，是3栋2单元503")
    assert "3栋2单元503" in corrected.text and "请您核对" in corrected.text
    pusher.text(bound, "确认")
    [ticket] = tickets(services, bound)
    assert ticket["room"] == "3栋2单元503"


def test_cancel_creates_nothing(pusher: Any, services: Any) -> None:
    pusher.text(NEW, "5栋楼道的灯不亮了")
    reply = pusher.text(NEW, "算了")
    assert "取消" in reply.text and "没有创建工单" in reply.text
    assert tickets(services, NEW) == []
    assert services.states.load(NEW).active_loop is None


def test_an_faq_question_mid_form_is_answered_and_the_form_resumes(
        pusher: Any, services: Any, bound: str) -> None:
    question = pusher.text(bound, "厨房水龙头漏水了")
    answer = pusher.text(bound, "物业费多少钱一平")
    fee = services.faqs.get("fee_standard")
    assert fee.answer in answer.text
    assert "继续" in answer.text and "上门" in answer.text
    assert services.states.load(bound).active_loop == "repair_form"
    assert question.text.splitlines()[-1] in answer.text
    pusher.text(bound, "明天下午")
    pusher.text(bound, "确认")
    assert len(tickets(services, bound)) == 1


def test_a_photo_sent_during_the_form_is_attached(pusher: Any, services: Any,
                                                   bound: str) -> None:
    pusher.text(bound, "卫生间墙面开裂了")
    photo = pusher.image(bound, "http://example.invalid/crack.jpg")
    assert "照片已收到" in photo.text and "上门" in photo.text
    summary = pusher.text(bound, "随时")
    assert "照片：1张" in summary.text
    pusher.text(bound, "确认")
    [ticket] = tickets(services, bound)
    assert ticket["fields"]["location"] == "家中卫生间"


def test_night_noise_complaint_goes_to_security(pusher: Any, services: Any) -> None:
    first = pusher.text(NEW, "楼上每天半夜还在装修吵死了")
    assert "房号" in first.text
    assert "回访" in pusher.text(NEW, "跳过").text
    assert "回访的手机号码" in pusher.text(NEW, "需要").text  # a callback needs a number
    summary = pusher.text(NEW, "13912345678")
    assert "夜间噪音" in summary.text
    done = pusher.text(NEW, "确认")
    [ticket] = tickets(services, NEW)
    assert ticket["number"].startswith("TS") and ticket["department"] == "安保部"
    assert ticket["callback_needed"] is True
    assert "48小时" in done.text


def test_freight_elevator_booking_with_a_time(pusher: Any, services: Any, bound: str) -> None:
    summary = pusher.text(bound, "明天上午要搬家想预约货梯")
    assert "货梯预约" in summary.text and "明天上午" in summary.text
    pusher.text(bound, "确认")
    [ticket] = tickets(services, bound)
    assert ticket["number"].startswith("FW") and ticket["type"] == "service_request"
    assert ticket["fields"]["service"] == "货梯预约"
    assert ticket["fields"]["when"].startswith("明天上午（")


def test_suggestion(pusher: Any, services: Any) -> None:
    assert "建议" in pusher.text(NEW, "我有个建议").text
    assert "请您核对" in pusher.text(NEW, "建议小区多装几个快递柜").text
    pusher.text(NEW, "确认")
    [ticket] = tickets(services, NEW)
    assert ticket["number"].startswith("JY") and ticket["department"] == "客服部"


def test_retried_confirm_push_creates_one_ticket(pusher: Any, services: Any,
                                                  bound: str) -> None:
    pusher.text(bound, "明天上午要搬家想预约货梯")
    first = pusher.text(bound, "确认", msg_id=880001)
    again = pusher.text(bound, "确认", msg_id=880001)
    assert len(tickets(services, bound)) == 1
    assert again.status_code == 200 and "工单号：FW" not in again.text.replace(first.text, "")


def test_asking_for_a_person_mid_form_keeps_the_form(pusher: Any, services: Any) -> None:
    pusher.text(NEW, "卫生间下水道堵了")
    pusher.text(NEW, "转人工")
    state = services.states.load(NEW)
    assert state.active_loop == "repair_form" and state.owner == "waiting"
    assert tickets(services, NEW) == []


def test_the_description_holds_only_what_is_wrong_and_no_phone(pusher: Any, services: Any,
                                                               households: Any) -> None:
    summary = pusher.text(NEW, "卫生间下水道堵了 3栋2单元502 电话13800138000 明天下午有人")
    assert "问题描述：卫生间下水道堵了\n" in summary.text
    assert "上门时间：明天下午（" in summary.text and "138****8000" in summary.text
    assert "13800138000" not in summary.text
    pusher.text(NEW, "确认")
    [ticket] = tickets(services, NEW)
    assert ticket["fields"]["problem"] == "卫生间下水道堵了"
    assert "13800138000" not in ticket["summary"] and "有人" not in ticket["summary"]
    status = pusher.text(NEW, "查询工单")
    assert "卫生间下水道堵了" in status.text and "13800138000" not in status.text


def test_a_phone_in_complaint_details_goes_to_the_phone_not_the_details(
        pusher: Any, services: Any) -> None:
    pusher.text(NEW, "楼道堆满了杂物一直没人清理，我手机13912345678")
    pusher.text(NEW, "跳过")
    summary = pusher.text(NEW, "需要")
    assert "139****5678" in summary.text and "13912345678" not in summary.text
    pusher.text(NEW, "确认")
    [ticket] = tickets(services, NEW)
    assert ticket["fields"]["details"] == "楼道堆满了杂物一直没人清理"
    assert "1391" not in ticket["summary"]
    with services.sessions() as session:
        assert session.scalars(select(Ticket.phone)).all() == ["13912345678"]

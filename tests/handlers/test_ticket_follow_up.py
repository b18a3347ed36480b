"""Emergencies, status queries, staff updates reaching WeChat, and the resident's rating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.db import utcnow
from handlers.tickets.inspect import bound_rooms, tickets_for
from handlers.tickets.service import NewTicket, TicketService

NEW = "o_follow_new"


def staff_service(services: Any) -> TicketService:
    """What the CLI and the console use: the same service with the edge's notifier."""
    deps = services.deps
    return TicketService(deps.sessions, deps.config, deps.texts, deps.notifier)


def texts_sent_to(fake_wechat: Any, openid: str) -> list[str]:
    return [body.get("text", {}).get("content", "") for body in fake_wechat.sent_to(openid)]


def test_emergency_is_one_reply_with_a_p1_ticket_and_a_handover(pusher: Any,
                                                                 services: Any) -> None:
    reply = pusher.text(NEW, "电梯困人了快来人")
    assert len(reply.replies) == 1
    [ticket] = tickets_for(services.sessions, NEW)
    assert ticket["number"].startswith("JJ") and ticket["priority"] == "P1"
    assert ticket["number"] in reply.text
    assert services.config.service.emergency_phone in reply.text
    assert "警铃" in reply.text  # what to do now
    assert services.states.load(NEW).handover == "waiting"
    again = pusher.text(NEW, "快来人啊电梯里困着人")
    assert ticket["number"] in again.text
    assert len(tickets_for(services.sessions, NEW)) == 1


def test_emergency_in_the_middle_of_a_form_is_not_lost(pusher: Any, services: Any) -> None:
    pusher.text(NEW, "卫生间下水道堵了")
    reply = pusher.text(NEW, "楼道里好大的煤气味")
    [ticket] = tickets_for(services.sessions, NEW)
    assert ticket["type"] == "emergency" and ticket["number"] in reply.text
    state = services.states.load(NEW)
    assert state.active_loop is None and state.handover == "waiting"


def test_status_query_lists_open_tickets_in_chinese(pusher: Any, services: Any,
                                                    bound: str) -> None:
    pusher.text(bound, "明天上午要搬家想预约货梯")
    pusher.text(bound, "确认")
    [ticket] = tickets_for(services.sessions, bound)
    status = pusher.text(bound, "我的报修怎么样了")
    assert ticket["number"] in status.text
    assert "已派单" in status.text and "工程部" in status.text and "前响应" in status.text


def test_status_query_without_tickets(pusher: Any) -> None:
    assert "没有查到" in pusher.text(NEW, "查一下我的工单进度").text


def test_asking_about_an_overdue_ticket_urges_and_raises_it(pusher: Any, services: Any,
                                                            bound: str) -> None:
    late = services.deps.tickets.create(
        NewTicket(type="repair", openid=bound, text="阳台灯不亮", summary="阳台灯不亮"),
        now=utcnow() - timedelta(days=4))
    status = pusher.text(bound, "我昨天报修的怎么还没人来")
    assert late.number in status.text and "催办" in status.text
    [ticket] = tickets_for(services.sessions, bound)
    assert (ticket["priority"], ticket["urge_count"]) == ("P2", 1)
    events = services.deps.tickets.events(late.number)
    assert [e["kind"] for e in events][-2:] == ["urge", "priority"]


def test_staff_updates_reach_wechat_and_dissatisfied_rating_reopens(
        pusher: Any, services: Any, fake_wechat: Any, bound: str) -> None:
    pusher.text(bound, "3栋2单元502卫生间下水道堵了，随时可以来")
    pusher.text(bound, "确认")
    [ticket] = tickets_for(services.sessions, bound)
    number = ticket["number"]
    staff = staff_service(services)
    staff.transition(number, "accepted", "staff:wang", tell="张师傅已接单")
    staff.transition(number, "in_progress", "staff:wang")
    staff.transition(number, "resolved", "staff:wang", "已疏通")
    services.outbox.run_once()
    notices = [t for t in texts_sent_to(fake_wechat, bound) if number in t]
    assert len(notices) == 3
    assert "张师傅已接单" in notices[0] and "满意" in notices[-1]

    reply = pusher.text(bound, "不满意")
    assert number in reply.text and "重新" in reply.text
    [ticket] = tickets_for(services.sessions, bound)
    assert (ticket["state"], ticket["rating"], ticket["callback_needed"]) == ("reopened", 1, True)
    assert not ticket["awaiting_rating"]


def test_satisfied_rating_closes_the_ticket(pusher: Any, services: Any, bound: str) -> None:
    pusher.text(bound, "明天上午要搬家想预约货梯")
    pusher.text(bound, "确认")
    [ticket] = tickets_for(services.sessions, bound)
    staff = staff_service(services)
    staff.transition(ticket["number"], "accepted", "staff:li")
    staff.transition(ticket["number"], "resolved", "staff:li")
    assert "感谢您的评价" in pusher.text(bound, "满意").text
    assert tickets_for(services.sessions, bound)[0]["state"] == "closed"


def test_inspect_helpers_show_rooms_and_tickets(pusher: Any, services: Any, bound: str) -> None:
    pusher.text(bound, "明天上午要搬家想预约货梯")
    pusher.text(bound, "确认")
    assert bound_rooms(services.sessions, bound) == ["3栋2单元502"]
    [ticket] = tickets_for(services.sessions, bound)
    assert {"number", "type", "department", "priority", "room", "state", "deadline"} <= set(ticket)
    assert "phone" not in ticket


def test_status_lines_are_short_and_cut_cleanly(pusher: Any, services: Any, bound: str) -> None:
    pusher.text(bound, "厨房水槽下面的排水管接口一直在滴水，柜子里都泡烂了，随时可以来")
    pusher.text(bound, "确认")
    [ticket] = tickets_for(services.sessions, bound)
    status = pusher.text(bound, "查询工单")
    [line] = [ln for ln in status.text.splitlines() if ticket["number"] in ln]
    assert "报修：厨房水槽下面的排水管接口一直在…｜" in line
    assert "家中厨房" not in line and "，…" not in line
    assert "｜已派单｜工程部｜预计" in line and line.endswith("前响应")
    assert len(line) <= 70

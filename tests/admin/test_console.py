"""The console API end to end: queue, take over, replies through the outbox, the 48-hour rule."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.db import transaction, utcnow
from core.models import Household, OutboxItem, Resident, RoomBinding
from core.models.console import HandoverRecord, RevealAudit
from tests.admin.conftest import Staff

OPENID = "o_console"


def conv(openid: str = OPENID) -> str:
    return f"/console/api/conversations/{openid}"


def queued(pusher: Any, openid: str = OPENID, text: str = "转人工") -> None:
    assert "人工客服" in pusher.text(openid, text).text


def drain(services: Any, rounds: int = 1) -> None:
    """Let the outbox worker run, waiting out the (short) test backoff between rounds."""
    for _ in range(rounds):
        services.outbox.run_once()
        time.sleep(0.06)


def test_queue_lists_waiting_conversations_oldest_first(pusher: Any, agent: Staff) -> None:
    queued(pusher, "o_first")
    queued(pusher, "o_second", "我要找客服")
    data = agent.get("/console/api/queue").json
    assert [item["openid"] for item in data["waiting"]] == ["o_first", "o_second"]
    assert data["waiting"][0]["wait_seconds"] >= 0 and data["waiting"][0]["reason"] == "human"
    assert data["mine"] == [] and any(a["id"] == agent.user.id for a in data["agents"])


def test_take_over_reply_and_first_response_time(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    assert agent.post(f"{conv()}/take").status_code == 200
    assert agent.get("/console/api/queue").json["mine"][0]["openid"] == OPENID
    sent = agent.post(f"{conv()}/reply", {"text": "您好，我是客服专员小王，请问有什么可以帮您？"})
    assert sent.status_code == 200
    drain(services)
    assert fake_wechat.sent_to(OPENID)[-1]["text"]["content"].startswith("您好，我是客服专员小王")
    detail = agent.get(conv()).json
    last = detail["history"][-1]
    assert last["sender"] == "agent" and last["status"] == "sent" and last["agent_name"] == "AGENT1"
    inbound = next(m for m in detail["history"] if m["direction"] == "in")
    assert inbound["nlu"]["intent"] == "human"  # the bot's annotation, shown to the agent
    with services.sessions() as session:
        record = session.scalars(select(HandoverRecord)).one()
    assert record.first_response_at is not None and record.agent_id == agent.user.id


def test_only_the_owner_may_reply(pusher: Any, make_staff: Callable[..., Staff]) -> None:
    queued(pusher)
    first, second = make_staff("agent1"), make_staff("agent2")
    assert second.post(f"{conv()}/reply", {"text": "您好"}).status_code == 403
    first.post(f"{conv()}/take")
    taken = second.post(f"{conv()}/take")
    assert taken.status_code == 409 and taken.json["error"] == "owned_by_other"
    assert second.post(f"{conv()}/reply", {"text": "您好"}).json["error"] == "not_yours"


def test_sending_is_blocked_after_48_hours(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    with transaction(services.sessions) as session:
        session.execute(update(Resident).where(Resident.openid == OPENID)
                        .values(last_inbound_at=utcnow() - timedelta(hours=49)))
    window = agent.get(conv()).json["window"]
    assert window["open"] is False and window["remaining_seconds"] == 0
    refused = agent.post(f"{conv()}/reply", {"text": "您好，还在吗？"})
    assert refused.status_code == 409 and refused.json["error"] == "window_closed"
    assert "48小时" in refused.json["message"]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0
    pusher.text(OPENID, "我还在")  # the resident writes again: the window reopens
    assert agent.get(conv()).json["window"]["open"] is True
    assert agent.post(f"{conv()}/reply", {"text": "您好，收到"}).status_code == 200


def test_a_failed_send_is_retried_and_shown(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    fake_wechat.fail_next(1, errcode=-1)
    agent.post(f"{conv()}/reply", {"text": "您好，师傅马上到"})
    drain(services)
    shown = agent.get(conv()).json["history"][-1]
    assert shown["status"] == "queued" and shown["attempts"] == 1
    assert "system error" in shown["error"]
    drain(services)
    shown = agent.get(conv()).json["history"][-1]
    assert shown["status"] == "sent"
    assert fake_wechat.sent_to(OPENID)[-1]["text"]["content"] == "您好，师傅马上到"


def test_a_send_that_gave_up_is_shown_failed_and_can_be_resent(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    fake_wechat.fail_next(services.config.outbox.max_attempts, errcode=-1)
    agent.post(f"{conv()}/reply", {"text": "您好，请问方便接电话吗"})
    drain(services, services.config.outbox.max_attempts)
    failed = agent.get(conv()).json["history"][-1]
    assert failed["status"] == "failed" and failed["error"]
    assert agent.post(f"/console/api/messages/{failed['id']}/retry").status_code == 200
    drain(services)
    assert agent.get(conv()).json["history"][-1]["status"] == "sent"


def test_hand_back_tells_the_resident_and_the_bot_answers(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    assert agent.post(f"{conv()}/handback").status_code == 200
    drain(services)
    assert "智能客服" in fake_wechat.sent_to(OPENID)[-1]["text"]["content"]
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text


def test_close_sends_the_rating_question(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    agent.post(f"{conv()}/reply", {"text": "您好，已为您登记。"})
    assert agent.post(f"{conv()}/close").status_code == 200
    drain(services)
    assert "满意" in fake_wechat.sent_to(OPENID)[-1]["text"]["content"]
    assert "感谢您的评价" in pusher.text(OPENID, "4").text


def test_closing_an_unanswered_conversation_does_not_ask_for_a_rating(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    assert agent.post(f"{conv()}/close").status_code == 200
    drain(services)
    last = fake_wechat.sent_to(OPENID)[-1]["text"]["content"]
    assert "评价" not in last and "感谢" not in last and "久等" in last
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text


def test_transfer_to_another_agent(pusher: Any, make_staff: Callable[..., Staff]) -> None:
    queued(pusher)
    first, second = make_staff("agent1"), make_staff("agent2")
    first.post(f"{conv()}/take")
    assert first.post(f"{conv()}/transfer", {"agent_id": second.user.id}).status_code == 200
    assert second.get("/console/api/queue").json["mine"][0]["openid"] == OPENID
    assert second.post(f"{conv()}/reply", {"text": "您好，我来为您处理"}).status_code == 200
    assert first.post(f"{conv()}/reply", {"text": "您好"}).status_code == 403


def test_internal_notes_stay_internal(
    pusher: Any, agent: Staff, services: Any, fake_wechat: Any
) -> None:
    queued(pusher)
    assert agent.post(f"{conv()}/notes", {"text": "业主上周已反映过同样问题"}).status_code == 200
    drain(services)
    notes = agent.get(conv()).json["notes"]
    assert notes == [{**notes[0], "author": "AGENT1", "text": "业主上周已反映过同样问题"}]
    assert all("上周" not in str(body) for body in fake_wechat.sent)


def test_phone_is_masked_and_every_reveal_is_logged(
    pusher: Any, agent: Staff, services: Any
) -> None:
    queued(pusher)
    community_id = services.communities.first().id
    with transaction(services.sessions) as session:
        household = Household(community_id=community_id, room_key="3-2-502",
                              room="3栋2单元502", name="张三", phone="13800138000")
        session.add(household)
        session.flush()
        session.add(RoomBinding(openid=OPENID, community_id=community_id, room_key="3-2-502",
                                room="3栋2单元502", household_id=household.id))
    detail = agent.get(conv()).json
    assert "13800138000" not in str(detail)
    assert detail["resident"]["rooms"][0]["phone"] == "138****8000"
    revealed = agent.post(f"{conv()}/reveal").json
    assert revealed["phones"][0]["phone"] == "13800138000"
    with services.sessions() as session:
        audit = session.scalars(select(RevealAudit)).one()
    assert audit.user_id == agent.user.id and audit.openid == OPENID


def test_canned_replies_are_served_to_agents(agent: Staff) -> None:
    canned = agent.get("/console/api/canned").json["canned"]
    assert any(c["shortcut"] == "/您好" and c["text"].startswith("您好") for c in canned)


def test_ticket_created_from_the_conversation(pusher: Any, agent: Staff) -> None:
    queued(pusher)
    created = agent.post(f"{conv()}/tickets", {"type": "repair", "text": "卫生间下水道堵了",
                                               "room": "3栋2单元502"})
    assert created.status_code == 200, created.json
    number = created.json["ticket"]["number"]
    tickets = agent.get(conv()).json["resident"]["tickets"]
    assert tickets[0]["number"] == number
    moved = agent.post(f"/console/api/tickets/{number}/state", {"state": "accepted",
                                                                 "note": "已电话联系"})
    assert moved.status_code == 200 and moved.json["ticket"]["state"] == "accepted"
    refused = agent.post(f"/console/api/tickets/{number}/state", {"state": "closed"})
    assert refused.status_code == 400 and refused.json["error"] == "ticket_error"


def test_console_page_renders_for_an_agent(agent: Staff) -> None:
    page = agent.get("/console")
    assert page.status_code == 200 and "等待接入" in page.text and "console.js" in page.text

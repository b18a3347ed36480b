"""Callbacks (回访): every closed complaint, a configurable share of closed repairs,
the bot's promises and low ratings; a dissatisfied outcome reopens the ticket."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.config import DeskConfig
from core.models import Ticket
from desk import callbacks
from tests.desk.conftest import Crew, new_ticket, open_window

COMPLAINTS = ["楼下装修太吵了", "保安态度很差", "垃圾好几天没人收", "车位被人占了",
              "物业费多收了", "电梯广告声音太大", "绿化带被人挖了"]


def close(services: Any, number: str) -> None:
    for state in ("accepted", "resolved", "closed"):
        services.deps.tickets.transition(number, state, "staff:li")


def test_every_closed_complaint_enters_the_callback_list(services: Any) -> None:
    numbers = [new_ticket(services, text, kind="complaint", openid=f"o_c{i}")
               for i, text in enumerate(COMPLAINTS)]
    for number in numbers:
        close(services, number)
    rated = new_ticket(services, "停车场灯坏了没人管", kind="complaint")
    for state in ("accepted", "resolved"):
        services.deps.tickets.transition(rated, state, "staff:li")
    services.deps.tickets.rate(rated, 4, "resident:o_resident")  # closing by a rating too
    listed = callbacks.open_list(services.sessions)
    assert sorted(r["ticket"] for r in listed) == sorted(numbers + [rated])
    assert all(r["type"] == "complaint" and r["source"] == "ticket" for r in listed)
    close_again = listed[0]["ticket"]  # the same close never owes two calls
    assert [r["ticket"] for r in callbacks.open_list(services.sessions)].count(close_again) == 1


@pytest.mark.parametrize("share", [1.0, 0.5, 0.0], ids=["all", "half", "none"])
def test_a_configurable_share_of_closed_repairs_is_called_back(share: float) -> None:
    config = dataclasses.replace(DeskConfig(), repair_callback_share=share)
    repairs = [Ticket(number=f"BX20261118-{i:04d}", type="repair") for i in range(400)]
    chosen = sum(callbacks.owed_for_ticket(t, config) for t in repairs)
    assert abs(chosen / 400 - share) < 0.08
    complaint = Ticket(number="TS20261118-0001", type="complaint")
    assert callbacks.owed_for_ticket(complaint, config)  # complaints always


def test_a_dissatisfied_callback_reopens_the_ticket_and_tells_the_resident(
        services: Any, crew: Crew, make_staff_client: Any, fake_wechat: Any) -> None:
    open_window(services, "o_resident")
    number = new_ticket(services, "保安态度很差", kind="complaint")
    close(services, number)
    [row] = callbacks.open_list(services.sessions)
    agent = make_staff_client(crew.agent)
    response = agent.form(f"/console/callbacks/{row['id']}",
                          {"reached": "1", "satisfied": "0", "note": "业主说保安还是不理人"})
    assert response.status_code == 302
    assert services.deps.tickets.get(number).state == "reopened"
    assert callbacks.open_list(services.sessions) == []
    services.outbox.run_once()
    last = fake_wechat.sent_to("o_resident")[-1]["text"]["content"]
    assert number in last and "已重新处理" in last
    page = agent.get("/console/callbacks").text
    assert "暂无待回访" in page


def test_reached_without_a_satisfaction_answer_is_refused(
        services: Any, crew: Crew, make_staff_client: Any) -> None:
    number = new_ticket(services, "保安态度很差", kind="complaint")
    close(services, number)
    [row] = callbacks.open_list(services.sessions)
    agent = make_staff_client(crew.agent)
    agent.form(f"/console/callbacks/{row['id']}", {"reached": "1", "satisfied": ""})
    assert len(callbacks.open_list(services.sessions)) == 1
    agent.form(f"/console/callbacks/{row['id']}", {"reached": "0", "note": "无人接听"})
    assert callbacks.open_list(services.sessions) == []


def test_a_dissatisfied_ticket_rating_is_a_promised_call(services: Any) -> None:
    number = new_ticket(services)
    for state in ("accepted", "resolved"):
        services.deps.tickets.transition(number, state, "staff:li")
    services.deps.tickets.rate(number, 1, "resident:o_resident")
    [row] = callbacks.open_list(services.sessions)
    assert (row["source"], row["ticket"]) == ("promise", number)


def test_a_low_chat_rating_enters_the_callback_list_and_the_quality_queue(
        services: Any, crew: Crew, pusher: Any) -> None:
    from core.db import transaction
    from desk import quality

    pusher.text("o_unhappy", "转人工")
    services.handover.take_over("o_unhappy", crew.agent.id)
    with transaction(services.sessions) as session:
        services.handover.note_agent_reply(session, "o_unhappy")
    services.handover.close("o_unhappy", crew.agent.id)
    reply = pusher.text("o_unhappy", "不满意")
    assert "客服主管" in reply.text
    [row] = callbacks.open_list(services.sessions)
    assert (row["source"], row["openid"], row["ticket"]) == ("rating", "o_unhappy", None)
    pusher.text("o_unhappy", "不满意")  # not asked again: no second callback
    assert len(callbacks.open_list(services.sessions)) == 1
    quality.collect(services.sessions, services.config)
    [review] = quality.pending(services.sessions)
    assert review["reason"] == "dissatisfied" and review["agent_id"] == crew.agent.id

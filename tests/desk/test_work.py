"""Departments and workers: a head dispatches to a named worker, who accepts, starts and
completes; the resident hears of every state change; internal notes stay internal."""

from __future__ import annotations

from typing import Any

import pytest

from admin import desk_wiring
from desk import alerts
from desk.staff import Staff
from desk.work import WorkError
from tests.desk.conftest import Crew, new_ticket, open_window


def actor(services: Any, user: Any) -> Any:
    return desk_wiring.actor(services, user)


def texts_to(fake_wechat: Any, openid: str) -> list[str]:
    return [b.get("text", {}).get("content", "") for b in fake_wechat.sent_to(openid)]


def test_departments_are_seeded_from_the_domain(services: Any) -> None:
    assert Staff(services.sessions).department_names() == ["工程部", "环境部", "安保部",
                                                           "客服部", "财务部"]


def test_head_dispatches_to_a_named_worker_who_is_told_on_console_and_wechat(
        services: Any, crew: Crew, fake_wechat: Any) -> None:
    Staff(services.sessions).bind_wechat(crew.worker.id, "o_worker_li")
    number = new_ticket(services)
    work = desk_wiring.work(services)
    work.dispatch(number, crew.worker.id, actor(services, crew.head), "带疏通机")
    ticket = services.deps.tickets.get(number)
    assert ticket.assignee_id == crew.worker.id and ticket.state == "dispatched"
    [alert] = alerts.unread(services.sessions, crew.worker.id)
    assert alert["kind"] == "dispatch" and number in alert["text"]
    services.outbox.run_once()
    [sent] = fake_wechat.sent_to("o_worker_li")
    assert sent["template_id"] == "tpl-dispatch" and sent["data"]["keyword1"]["value"] == number
    events = services.deps.tickets.events(number)
    assert events[-1]["kind"] == "assign" and "LI" in events[-1]["note"]


@pytest.mark.parametrize("who", ["worker", "cleaner", "agent"])
def test_only_the_departments_head_or_a_supervisor_dispatches(
        services: Any, crew: Crew, who: str) -> None:
    number = new_ticket(services)
    with pytest.raises(WorkError, match="负责人"):
        desk_wiring.work(services).dispatch(number, crew.worker.id,
                                            actor(services, getattr(crew, who)))
    desk_wiring.work(services).dispatch(number, crew.worker.id, actor(services, crew.supervisor))


def test_a_worker_of_another_department_cannot_be_chosen(services: Any, crew: Crew) -> None:
    number = new_ticket(services)
    with pytest.raises(WorkError, match="工程部的员工"):
        desk_wiring.work(services).dispatch(number, crew.cleaner.id, actor(services, crew.head))


def test_worker_accepts_starts_and_completes_and_the_resident_hears_each_step(
        services: Any, crew: Crew, fake_wechat: Any) -> None:
    open_window(services, "o_resident")
    number = new_ticket(services)
    work = desk_wiring.work(services)
    li = actor(services, crew.worker)
    assert [t.number for t in work.worker_tickets(li)["new"]] == [number]
    work.accept(number, li)
    assert [t.number for t in work.worker_tickets(li)["mine"]] == [number]
    work.note(number, li, "需要更换存水弯，业主家里有老人")
    work.start(number, li)
    work.complete(number, li, "更换了存水弯", tell="已疏通并更换配件")
    ticket = services.deps.tickets.get(number)
    assert ticket.state == "resolved" and ticket.first_responded_at is not None
    services.outbox.run_once()
    notices = [t for t in texts_to(fake_wechat, "o_resident") if number in t]
    assert len(notices) == 3
    assert "已受理" in notices[0] and "处理中" in notices[1] and "满意" in notices[2]
    assert "已疏通并更换配件" in notices[2]
    assert not any("存水弯" in t or "老人" in t for t in notices)  # internal notes stay in
    kinds = [e["kind"] for e in services.deps.tickets.events(number)]
    assert "note" in kinds and "told" in kinds


def test_another_worker_cannot_work_a_ticket_dispatched_to_someone_else(
        services: Any, crew: Crew) -> None:
    number = new_ticket(services)
    work = desk_wiring.work(services)
    work.dispatch(number, crew.worker.id, actor(services, crew.head))
    with pytest.raises(WorkError):
        work.accept(number, actor(services, crew.other_worker))
    with pytest.raises(WorkError):
        work.accept(number, actor(services, crew.cleaner))
    work.accept(number, actor(services, crew.worker))
    with pytest.raises(WorkError, match="未派给您"):
        work.complete(number, actor(services, crew.other_worker))


def test_a_dispatch_is_announced_live_to_the_workers_console(
        services: Any, crew: Crew, redis_client: Any) -> None:
    import json

    from bot.handover import EVENTS_CHANNEL

    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EVENTS_CHANNEL)
    number = new_ticket(services)
    desk_wiring.work(services).dispatch(number, crew.worker.id, actor(services, crew.head))
    events = []
    for _ in range(20):
        message = pubsub.get_message(timeout=0.2)
        if message:
            events.append(json.loads(message["data"]))
    pubsub.close()
    [alert] = [e for e in events if e["type"] == "alert"]
    assert alert["user_ids"] == [crew.worker.id] and alert["ticket"] == number

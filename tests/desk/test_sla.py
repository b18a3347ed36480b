"""The SLA watch: a missed deadline escalates once and pages the duty phone once (P1),
priorities rise where the rules say, pauses are respected, `wuye sla check --at`."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

from core.db import transaction
from core.models import Ticket
from core.models.desk import SlaBreach
from desk import alerts
from desk.sla import watch_for
from tests.desk.conftest import Crew, PagingGateway, new_ticket

T0 = datetime.fromisoformat("2026-11-18T10:00:00+08:00")


def breaches(services: Any) -> list[SlaBreach]:
    with services.sessions() as session:
        return list(session.query(SlaBreach).order_by(SlaBreach.id))


def test_a_p1_breach_escalates_once_and_pages_once(
        services: Any, crew: Crew, paging: PagingGateway) -> None:
    number = new_ticket(services, "电梯困人了，有人被困在里面", now=T0)
    assert services.deps.tickets.get(number).priority == "P1"
    watch = watch_for(services)
    assert watch.run(T0 + timedelta(minutes=14))["breaches"] == []
    result = watch.run(T0 + timedelta(minutes=16))
    [breach] = result["breaches"]
    assert (breach["ticket"], breach["kind"], breach["paged"]) == (number, "response", True)
    assert sorted(breach["alerted"]) == sorted([crew.head.id, crew.supervisor.id])
    for minutes in (17, 30, 60):  # later passes find nothing new and page nobody again
        again = watch.run(T0 + timedelta(minutes=minutes))
        assert again["breaches"] == [] and again["pages"] == []
    assert len(paging.calls) == 1
    assert paging.calls[0]["ticket"] == number and paging.calls[0]["priority"] == "P1"
    assert "13800138000" not in json.dumps(paging.calls[0], ensure_ascii=False)
    [row] = breaches(services)
    assert row.page_status == "sent" and row.page_attempts == 1
    assert services.deps.tickets.get(number).overdue_flag
    assert [a["kind"] for a in alerts.unread(services.sessions, crew.head.id)] == ["sla"]
    assert alerts.unread(services.sessions, crew.worker.id) == []


def test_concurrent_passes_record_and_page_a_breach_once(
        services: Any, crew: Crew, paging: PagingGateway) -> None:
    new_ticket(services, "楼道着火冒烟了", now=T0)
    at = T0 + timedelta(minutes=20)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(watch_for(services).run(at)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r["breaches"]) for r in results) == 1
    assert len(breaches(services)) == 1 and len(paging.calls) == 1


def test_a_failed_page_is_retried_and_sent_once(
        services: Any, crew: Crew, paging: PagingGateway) -> None:
    new_ticket(services, "家里水管爆了，水漫出来了", now=T0)
    paging.fail_next = 1
    first = watch_for(services).run(T0 + timedelta(minutes=20))
    assert first["pages"][0]["status"] == "failed" and paging.calls == []
    second = watch_for(services).run(T0 + timedelta(minutes=21))
    assert second["pages"][0]["status"] == "sent" and len(paging.calls) == 1
    watch_for(services).run(T0 + timedelta(minutes=22))
    assert len(paging.calls) == 1


def test_a_p3_response_breach_raises_priority_and_is_not_paged(
        services: Any, crew: Crew, paging: PagingGateway) -> None:
    number = new_ticket(services, "楼道的灯不亮了", now=T0)
    assert services.deps.tickets.get(number).priority == "P3"
    [breach] = watch_for(services).run(T0 + timedelta(hours=25))["breaches"]
    assert (breach["priority"], breach["raised_to"], breach["paged"]) == ("P3", "P2", False)
    ticket = services.deps.tickets.get(number)
    assert ticket.priority == "P2"
    assert ticket.resolve_due <= T0 + timedelta(hours=25 + 24)
    assert paging.calls == []
    kinds = [e["kind"] for e in services.deps.tickets.events(number)]
    assert "sla" in kinds and "priority" in kinds


def test_an_accepted_ticket_has_no_response_breach_and_a_pause_moves_the_deadline(
        services: Any, crew: Crew) -> None:
    number = new_ticket(services, "卫生间漏水", now=T0)
    tickets = services.deps.tickets
    tickets.transition(number, "accepted", "staff:li", now=T0 + timedelta(hours=1))
    assert watch_for(services).run(T0 + timedelta(hours=30))["breaches"] == []
    tickets.pause(number, "staff:li", "等配件")
    with transaction(services.sessions) as session:  # the pause began 10 days ago
        row = session.query(Ticket).filter_by(number=number).one()
        row.paused_at = T0 + timedelta(hours=2)
        due = row.resolve_due
    assert watch_for(services).run(T0 + timedelta(days=5))["breaches"] == []  # paused
    tickets.transition(number, "in_progress", "staff:li", now=T0 + timedelta(days=4))
    moved = tickets.get(number).resolve_due
    assert moved == due + (T0 + timedelta(days=4) - (T0 + timedelta(hours=2)))
    assert watch_for(services).run(T0 + timedelta(days=5))["breaches"] == []
    [late] = watch_for(services).run(moved + timedelta(minutes=1))["breaches"]
    assert late["kind"] == "resolve"

"""The ticket life cycle on SQLite and PostgreSQL: numbers, events, urges, ratings, notices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, utcnow
from handlers.deps import HandlerDeps
from handlers.tickets.rooms import parse_room
from handlers.tickets.rules import TransitionError
from handlers.tickets.service import NewTicket, TicketNotFoundError, TicketService
from tests.conftest import make_config


class RecordingNotifier:
    """Stands in for the WeChat edge (bot/notify.py): records what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    def notify(self, openid: str, text: str, template: str | None = None,
               data: dict[str, Any] | None = None) -> str:
        self.sent.append((openid, text, template))
        return "custom"


@pytest.fixture()
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture()
def service(sessions: sessionmaker[Session], notifier: RecordingNotifier,
            tmp_path: Any) -> TicketService:
    config = make_config(tmp_path)
    deps = HandlerDeps(config=config, sessions=sessions, faqs=None)
    return TicketService(sessions, config, deps.texts, notifier)


def repair(text: str = "卫生间下水道堵了", **extra: Any) -> NewTicket:
    return NewTicket(type="repair", openid="o_service", text=text, summary=text,
                     room=parse_room("3栋2单元502"), phone="13800138000", **extra)


def test_create_numbers_classifies_and_dispatches(service: TicketService) -> None:
    first = service.create(repair())
    second = service.create(repair("家里停水了"))
    assert first.number.startswith("BX") and first.number.endswith("-0001")
    assert second.number.endswith("-0002")
    assert (first.department, first.priority, first.state) == ("工程部", "P3", "dispatched")
    assert second.priority == "P2"
    assert [e["to"] for e in service.events(first.number)] == ["new", "dispatched"]


def test_same_dedupe_key_never_makes_two_tickets(service: TicketService) -> None:
    one = service.create(repair(dedupe_key="repair_form:abc"))
    again = service.create(repair(dedupe_key="repair_form:abc"))
    assert one.number == again.number
    assert len(service.list_tickets("o_service")) == 1


def test_every_change_is_recorded_and_announced(service: TicketService,
                                                 notifier: RecordingNotifier) -> None:
    number = service.create(repair()).number
    for state in ("accepted", "in_progress"):
        service.transition(number, state, "staff:wang", f"note {state}")
    resolved = service.transition(number, "resolved", "staff:wang", "已疏通", tell="已疏通")
    assert resolved.awaiting_rating
    events = service.events(number)
    assert [(e["to"], e["actor"]) for e in events if e["kind"] == "state"][-3:] == [
        ("accepted", "staff:wang"), ("in_progress", "staff:wang"), ("resolved", "staff:wang")]
    assert len(notifier.sent) == 3
    assert all(openid == "o_service" and number in text for openid, text, _ in notifier.sent)
    assert "满意" in notifier.sent[-1][1]


def test_invalid_transition_is_refused_with_a_clear_error(service: TicketService,
                                                          notifier: RecordingNotifier) -> None:
    number = service.create(repair()).number
    with pytest.raises(TransitionError, match="不能改为"):
        service.transition(number, "closed", "staff:wang")
    assert service.get(number).state == "dispatched" and notifier.sent == []
    with pytest.raises(TicketNotFoundError):
        service.transition("BX00000000-9999", "accepted", "staff:wang")


def test_dissatisfied_rating_reopens_and_flags_a_callback(service: TicketService) -> None:
    number = service.create(repair()).number
    for state in ("accepted", "in_progress", "resolved"):
        service.transition(number, state, "staff:wang")
    assert service.awaiting_rating("o_service") is not None
    rated = service.rate(number, 1, "resident:o_service")
    assert (rated.state, rated.rating, rated.callback_needed) == ("reopened", 1, True)
    assert service.awaiting_rating("o_service") is None


def test_satisfied_rating_closes(service: TicketService) -> None:
    number = service.create(repair()).number
    for state in ("accepted", "resolved"):
        service.transition(number, state, "staff:wang")
    assert service.rate(number, 5, "resident:o_service").state == "closed"


def test_urging_an_overdue_ticket_raises_its_priority(service: TicketService) -> None:
    created = service.create(repair(), now=utcnow() - timedelta(days=2))
    urged = service.urge(created.number, "resident:o_service")
    assert (urged.priority, urged.urge_count) == ("P2", 1)
    kinds = [e["kind"] for e in service.events(created.number)]
    assert kinds[-2:] == ["urge", "priority"]


def test_urging_in_time_only_records(service: TicketService) -> None:
    number = service.create(repair()).number
    assert service.urge(number, "resident:o_service").priority == "P3"


def test_transfer_and_pause_are_events(service: TicketService) -> None:
    number = service.create(repair()).number
    assert service.transfer(number, "环境部", "staff:li", "其实是保洁问题").department == "环境部"
    with pytest.raises(TransitionError):
        service.transfer(number, "外星部", "staff:li")
    with pytest.raises(TransitionError):
        service.pause(number, "staff:li")
    service.transition(number, "accepted", "staff:li")
    assert service.pause(number, "staff:li", "等配件").state == "accepted"
    assert [e["kind"] for e in service.events(number)][-3:] == ["transfer", "state", "pause"]


def test_complaints_are_always_flagged_for_a_callback(service: TicketService) -> None:
    complaint = service.create(NewTicket(type="complaint", openid="o_service",
                                         text="保安态度太差了", summary="保安态度太差了"))
    assert complaint.number.startswith("TS") and complaint.callback_needed
    assert complaint.resolve_due is None


def test_notices_carry_the_configured_template(sessions: sessionmaker[Session],
                                               notifier: RecordingNotifier,
                                               tmp_path: Any) -> None:
    config = make_config(tmp_path, tickets={"notice_template_id": "TPL_PROGRESS"})
    deps = HandlerDeps(config=config, sessions=sessions, faqs=None)
    service = TicketService(sessions, config, deps.texts, notifier)
    number = service.create(repair()).number
    service.transition(number, "accepted", "staff:wang")
    assert notifier.sent[-1][2] == "TPL_PROGRESS"

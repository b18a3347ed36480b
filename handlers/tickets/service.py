"""Ticket life cycle for the bot, the CLI and the agent console: create, move, urge, rate.

Every change is one transaction that also writes a ticket_events row (who, when,
note); changes made by staff are announced to the resident through the notifier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, sessionmaker

from communities import context
from communities.directory import Communities
from core.config import Config
from core.db import transaction, utcnow
from core.models import Ticket, TicketEvent
from desk import callbacks
from handlers.texts import Texts
from handlers.tickets.rooms import Room
from handlers.tickets.rules import DispatchRules, LifeCycle, TransitionError, raise_priority
from handlers.tickets.views import TicketView, local_time

NUMBER_ATTEMPTS = 5
# A person has answered the ticket once it reaches one of these (the response SLA).
PERSON_STATES = ("accepted", "in_progress", "resolved")


class TicketNotFoundError(LookupError):
    """No ticket has this number."""


@dataclass
class NewTicket:
    """What intake collected; classification and deadlines are added by the service."""

    type: str
    openid: str | None
    text: str
    summary: str
    room: Room | None = None
    phone: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    photos: list[Any] = field(default_factory=list)
    wants_callback: bool = False
    dedupe_key: str | None = None
    actor: str = "resident"
    # None: the community the turn is served for (unknown for an unbound resident's SOS).
    community_id: int | None = None


class TicketService:
    def __init__(self, sessions: sessionmaker[Session], config: Config, texts: Texts,
                 notifier: Any = None) -> None:
        self.sessions = sessions
        self.config = config
        self.texts = texts
        self.notifier = notifier
        self.rules = DispatchRules.load(config.path(config.tickets.rules_file))
        self.life = LifeCycle.load(config.path(config.tickets.states_file))

    # -- intake ---------------------------------------------------------------
    def create(self, new: NewTicket, now: datetime | None = None) -> TicketView:
        """Classify, number, dispatch; the same dedupe_key never makes a second ticket."""
        now = now or utcnow()
        for _ in range(NUMBER_ATTEMPTS):
            existing = self._by_dedupe(new.dedupe_key)
            if existing is not None:
                return existing
            try:
                with transaction(self.sessions) as session:
                    return TicketView.of(self._insert(session, new, now))
            except IntegrityError:
                continue  # a concurrent insert took the number or the dedupe key
        raise RuntimeError("could not allocate a ticket number")

    def _by_dedupe(self, key: str | None) -> TicketView | None:
        if not key:
            return None
        with self.sessions() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.dedupe_key == key)).first()
            return TicketView.of(ticket) if ticket else None

    def _insert(self, session: Session, new: NewTicket, now: datetime) -> Ticket:
        found = self.rules.classify(new.type, new.text)
        response_due, resolve_due = self.rules.deadlines(new.type, found.priority, now)
        ticket = Ticket(
            number=self._next_number(session, new.type, now), openid=new.openid,
            community_id=new.community_id or context.current_id(),
            type=new.type, category=found.category, department=found.department,
            priority=found.priority, state="new", room=new.room.display if new.room else "",
            room_key=new.room.key if new.room else "", summary=new.summary,
            fields=new.fields, photos=new.photos, phone=new.phone,
            wants_callback=new.wants_callback, callback_needed=new.type == "complaint",
            dedupe_key=new.dedupe_key, response_due=response_due, resolve_due=resolve_due,
            created_at=now, updated_at=now,
        )
        session.add(ticket)
        session.flush()
        self._event(session, ticket, "state", new.actor, "受理：" + new.summary, None, "new", now)
        note = f"派至{found.department}（{found.priority}{'，' + found.why if found.why else ''}）"
        self._event(session, ticket, "state", "system", note, "new", "dispatched", now)
        ticket.state = "dispatched"
        return ticket

    def _next_number(self, session: Session, ticket_type: str, now: datetime) -> str:
        local = now.astimezone(ZoneInfo(self.config.service.timezone))
        stem = f"{self.life.prefix(ticket_type)}{local:%Y%m%d}-"
        last = session.scalar(select(func.max(Ticket.number)).where(Ticket.number.like(stem + "%")))
        sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        return f"{stem}{sequence:04d}"

    # -- life cycle -----------------------------------------------------------
    def transition(self, number: str, state: str, actor: str, note: str = "",
                   now: datetime | None = None, notify: bool = True,
                   tell: str = "") -> TicketView:
        """Move a ticket along the state table; refused moves raise TransitionError.

        `note` is internal (the history only); `tell` is what the resident is told with
        the state notice, recorded on the history as such."""
        now = now or utcnow()
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            self.life.check_move(ticket.state, state)
            self._event(session, ticket, "state", actor, note, ticket.state, state, now)
            if tell and notify and ticket.openid:
                self._event(session, ticket, "told", actor, tell, None, None, now)
            if state in PERSON_STATES and actor != "system" and ticket.first_responded_at is None:
                ticket.first_responded_at = now
            self._apply_state(ticket, state, now)
            view = TicketView.of(ticket)
        if notify:
            self.notify_state(view, tell)
        return view

    def _apply_state(self, ticket: Ticket, state: str, now: datetime) -> None:
        if ticket.paused and ticket.paused_at is not None and ticket.resolve_due is not None:
            ticket.resolve_due += now - ticket.paused_at  # the pause does not count
        ticket.state, ticket.updated_at, ticket.paused, ticket.paused_at = state, now, False, None
        if state == "resolved":
            ticket.resolved_at, ticket.awaiting_rating = now, True
        elif state in ("closed", "cancelled"):
            ticket.closed_at, ticket.awaiting_rating = now, False
            session = object_session(ticket)
            if state == "closed" and session is not None:
                callbacks.on_ticket_closed(session, ticket, now, self.config.desk)
        elif state == "reopened":
            ticket.awaiting_rating, ticket.closed_at, ticket.overdue = False, None, False
            _, resolve_due = self.rules.deadlines(ticket.type, ticket.priority, now)
            ticket.resolve_due = resolve_due

    def urge(self, number: str, actor: str, note: str = "",
             now: datetime | None = None) -> TicketView:
        """催单: recorded every time; an overdue ticket also goes up one priority level."""
        now = now or utcnow()
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            self.life.check_event(ticket.state, "urge")
            ticket.urge_count += 1
            overdue = TicketView.of(ticket).overdue(now)
            self._event(session, ticket, "urge", actor, note or "业主催单", None, None, now)
            if overdue and ticket.priority != "P1":
                raised = raise_priority(ticket.priority)
                self._event(session, ticket, "priority", "system",
                            f"超时催单，优先级 {ticket.priority} → {raised}", None, None, now)
                ticket.priority = raised
                _, resolve_due = self.rules.deadlines(ticket.type, raised, now)
                if resolve_due and (ticket.resolve_due is None or resolve_due < ticket.resolve_due):
                    ticket.resolve_due = resolve_due
            ticket.updated_at = now
            return TicketView.of(ticket)

    def transfer(self, number: str, department: str, actor: str, note: str = "") -> TicketView:
        """Hand the ticket to another department (it must be one of the rule file's)."""
        if department not in self.rules.departments:
            raise TransitionError(f"未知部门：{department}")
        now = utcnow()
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            self.life.check_event(ticket.state, "transfer")
            self._event(session, ticket, "transfer", actor,
                        f"{ticket.department} → {department} {note}".strip(), None, None, now)
            ticket.department, ticket.updated_at = department, now
            return TicketView.of(ticket)

    def pause(self, number: str, actor: str, note: str = "") -> TicketView:
        """Work waits on something outside our hands (parts, the resident's availability)."""
        now = utcnow()
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            self.life.check_event(ticket.state, "pause")
            self._event(session, ticket, "pause", actor, note or "暂停处理", None, None, now)
            ticket.paused, ticket.paused_at, ticket.updated_at = True, now, now
            return TicketView.of(ticket)

    def rate(self, number: str, score: int, actor: str, note: str = "") -> TicketView:
        """The resident's rating: 3 and up closes the ticket, below reopens it for a callback."""
        now = utcnow()
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            if ticket.state != "resolved":
                state = self.life.state_name(ticket.state)
                raise TransitionError(f"工单当前为“{state}”，暂不能评价")
            ticket.rating = score
            self._event(session, ticket, "rate", actor, f"评价 {score} 分 {note}".strip(),
                        None, None, now)
            target = "closed" if score >= 3 else "reopened"
            why = "业主满意，关闭" if score >= 3 else "业主不满意，重新处理并安排回访"
            self._event(session, ticket, "state", actor, why, ticket.state, target, now)
            self._apply_state(ticket, target, now)
            if target == "reopened":
                ticket.callback_needed = True
                callbacks.on_promise(session, ticket, now, self.config.desk,
                                     f"{ticket.number} 业主评价{score}分，已重新处理，需电话回访")
            return TicketView.of(ticket)

    # -- reading ----------------------------------------------------------------
    def get(self, number: str) -> TicketView:
        with self.sessions() as session:
            return TicketView.of(self._get(session, number))

    def list_tickets(self, openid: str | None = None, states: list[str] | None = None,
                     communities: Collection[int] | None = None) -> list[TicketView]:
        """Newest first; `communities` limits to those (None: every community, e.g. a
        company admin; a scoped agent passes theirs and never sees others' tickets)."""
        query = select(Ticket).order_by(Ticket.id.desc())
        if openid is not None:
            query = query.where(Ticket.openid == openid)
        if communities is not None:
            query = query.where(Ticket.community_id.in_(list(communities)))
        if states:
            query = query.where(Ticket.state.in_(states))
        with self.sessions() as session:
            return [TicketView.of(t) for t in session.scalars(query)]

    def events(self, number: str) -> list[dict[str, Any]]:
        with self.sessions() as session:
            ticket = self._get(session, number)
            rows = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                   .order_by(TicketEvent.id))
            return [{"kind": e.kind, "from": e.from_state, "to": e.to_state, "actor": e.actor,
                     "note": e.note, "at": e.created_at.isoformat()} for e in rows]

    def recent_open(self, openid: str, ticket_type: str, within: timedelta) -> TicketView | None:
        """The resident's latest open ticket of this type created within `within`."""
        since = utcnow() - within
        with self.sessions() as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.openid == openid, Ticket.type == ticket_type,
                                     Ticket.created_at >= since,
                                     Ticket.state.in_(self.life.open_states))
                .order_by(Ticket.id.desc()).limit(1)).first()
            return TicketView.of(ticket) if ticket else None

    def add_note(self, number: str, actor: str, note: str) -> TicketView:
        """A remark on the ticket's history without changing it (e.g. a repeated cry for help)."""
        with transaction(self.sessions) as session:
            ticket = self._get(session, number)
            self._event(session, ticket, "note", actor, note, None, None, utcnow())
            return TicketView.of(ticket)

    def awaiting_rating(self, openid: str) -> TicketView | None:
        with self.sessions() as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.openid == openid, Ticket.awaiting_rating.is_(True),
                                     Ticket.state == "resolved")
                .order_by(Ticket.resolved_at.desc()).limit(1)).first()
            return TicketView.of(ticket) if ticket else None

    # -- helpers ----------------------------------------------------------------
    @staticmethod
    def _get(session: Session, number: str) -> Ticket:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            raise TicketNotFoundError(f"没有找到工单 {number}")
        return ticket

    @staticmethod
    def _event(session: Session, ticket: Ticket, kind: str, actor: str, note: str,
               from_state: str | None, to_state: str | None, now: datetime) -> None:
        session.add(TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, note=note,
                                from_state=from_state, to_state=to_state, created_at=now))

    def notify_state(self, view: TicketView, note: str = "") -> None:
        """Tell the resident on WeChat; the notifier picks custom or template delivery."""
        if self.notifier is None or not view.openid:
            return
        key = "notice_resolved" if view.state == "resolved" else "notice_state"
        with context.serving(Communities(self.sessions).get(view.community_id)):
            self._notify(view, key, note)

    def notice_text(self, view: TicketView, note: str = "") -> str:
        """The words the resident gets for the ticket's state: shown to staff before sending."""
        key = "notice_resolved" if view.state == "resolved" else "notice_state"
        with context.serving(Communities(self.sessions).get(view.community_id)):
            return self._notice_text(view, key, note)

    def _notice_text(self, view: TicketView, key: str, note: str) -> str:
        return self.texts(key, number=view.number, type_name=self.life.type_name(view.type),
                          state_name=self.life.state_name(view.state),
                          department=view.department, note=f"（{note}）" if note else "",
                          deadline=local_time(view.deadline, self.config.service.timezone))

    def _notify(self, view: TicketView, key: str, note: str) -> None:
        text = self._notice_text(view, key, note)
        template = self.config.tickets.notice_template_id or None
        data = {"first": {"value": text}, "keyword1": {"value": view.number},
                "keyword2": {"value": self.life.state_name(view.state)}} if template else None
        self.notifier.notify(view.openid, text, template, data)


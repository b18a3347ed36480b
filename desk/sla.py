"""The SLA watch: one pass finds missed first-response and completion deadlines.

Each missed deadline is one `sla_breaches` row (unique per ticket, kind and due time),
so however often the pass runs — in several workers at once — a breach marks the
ticket overdue, raises its priority where the rules say, alerts the department head
and the supervisors, and pages the duty phone (P1) once. Paused tickets are skipped;
their deadlines move by the length of the pause when work resumes (ticket service).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction
from core.models import Ticket, TicketEvent
from core.models.desk import SlaBreach
from desk import alerts
from desk.staff import Staff

log = logging.getLogger(__name__)

WATCHED_STATES = ("new", "dispatched", "accepted", "in_progress", "reopened")
UNANSWERED_STATES = ("new", "dispatched")
PRIORITIES = ("P1", "P2", "P3")
KIND_NAMES = {"response": "响应", "resolve": "完成"}


@dataclass(frozen=True)
class BreachRules:
    """The `breach` section of the dispatch rules file."""

    raise_priority: dict[str, list[str]] = field(default_factory=dict)
    page: list[str] = field(default_factory=lambda: ["P1"])

    @classmethod
    def of(cls, data: dict[str, Any]) -> BreachRules:
        section = data.get("breach") or {}
        return cls(raise_priority=dict(section.get("raise_priority") or {}),
                   page=list(section.get("page") or ["P1"]))


@dataclass
class Deadlines:
    """How to recompute the done deadline for a raised priority (the rules' SLA table)."""

    resolve_after: Callable[[str, str, datetime], datetime | None]


class SlaWatch:
    def __init__(self, sessions: sessionmaker[Session], config: Config, rules: BreachRules,
                 deadlines: Deadlines, publish: alerts.Publish | None = None,
                 http: requests.Session | None = None) -> None:
        self.sessions = sessions
        self.config = config
        self.rules = rules
        self.deadlines = deadlines
        self.publish = publish
        self.http = http or requests.Session()
        self.staff = Staff(sessions)

    def run(self, now: datetime) -> dict[str, Any]:
        """One pass as if at `now`: new breaches handled, failed pages retried."""
        report: list[dict[str, Any]] = []
        for ticket_id, kind, due in self._missed(now):
            done = self._breach(ticket_id, kind, due, now)
            if done is not None:
                report.append(done)
        pages = [self._page(b, now) for b in self._pages_due()]
        for item in report:
            item["paged"] = any(p["breach_id"] == item["breach_id"] and p["status"] == "sent"
                                for p in pages)
        return {"at": now.isoformat(), "breaches": report, "pages": pages}

    # -- finding -------------------------------------------------------------------
    def _missed(self, now: datetime) -> list[tuple[int, str, datetime]]:
        with self.sessions() as session:
            rows = session.scalars(select(Ticket).where(
                Ticket.state.in_(WATCHED_STATES), Ticket.paused.is_(False),
                or_(Ticket.response_due < now, Ticket.resolve_due < now))).all()
            missed = []
            for t in rows:
                if (t.first_responded_at is None and t.state in UNANSWERED_STATES
                        and t.response_due is not None and t.response_due < now):
                    missed.append((t.id, "response", t.response_due))
                if t.resolve_due is not None and t.resolve_due < now:
                    missed.append((t.id, "resolve", t.resolve_due))
            return missed

    # -- one breach ------------------------------------------------------------------
    def _breach(self, ticket_id: int, kind: str, due: datetime,
                now: datetime) -> dict[str, Any] | None:
        try:
            with transaction(self.sessions) as session:
                if session.scalar(select(SlaBreach.id).where(
                        SlaBreach.ticket_id == ticket_id, SlaBreach.kind == kind,
                        SlaBreach.due_at == due)) is not None:
                    return None
                ticket = session.get(Ticket, ticket_id)
                if ticket is None:
                    return None
                row = SlaBreach(ticket_id=ticket_id, community_id=ticket.community_id,
                                kind=kind, department=ticket.department,
                                priority=ticket.priority, due_at=due, detected_at=now)
                session.add(row)
                session.flush()  # the unique constraint decides who handles it
                text = self._escalate(session, ticket, row, now)
                breach_id, number, told = row.id, ticket.number, list(row.alerted)
                summary = {"breach_id": breach_id, "ticket": number, "kind": kind,
                           "priority": row.priority, "raised_to": row.raised_to,
                           "department": row.department, "due_at": due.isoformat(),
                           "alerted": told}
        except IntegrityError:
            return None  # another worker recorded this breach first
        alerts.announce(self.publish, told, "sla", text, number)
        log.warning("SLA breach: ticket %s missed its %s deadline", number, kind)
        return summary

    def _escalate(self, session: Session, ticket: Ticket, row: SlaBreach, now: datetime) -> str:
        ticket.overdue, ticket.updated_at = True, now
        what = f"{KIND_NAMES[row.kind]}超时（时限 {_local(row.due_at, self.config)}）"
        session.add(TicketEvent(ticket_id=ticket.id, kind="sla", actor="system", note=what,
                                created_at=now))
        if ticket.priority in self.rules.raise_priority.get(row.kind, []):
            raised = PRIORITIES[max(PRIORITIES.index(ticket.priority) - 1, 0)]
            session.add(TicketEvent(ticket_id=ticket.id, kind="priority", actor="system",
                                    note=f"超时升级，优先级 {ticket.priority} → {raised}",
                                    created_at=now))
            ticket.priority, row.raised_to = raised, raised
            due = self.deadlines.resolve_after(ticket.type, raised, now)
            if due is not None and (ticket.resolve_due is None or due < ticket.resolve_due):
                ticket.resolve_due = due
        text = (f"工单{ticket.number}（{row.department}，{row.priority}）{what}："
                f"{ticket.room or ''}{ticket.summary[:30]}")
        users = self.staff.heads(row.department) + self.staff.supervisors()
        row.alerted = alerts.add(session, users, "sla", text, ticket.number,
                                 ticket.community_id, now)
        return text

    # -- paging the duty phone ---------------------------------------------------------
    def _pages_due(self) -> list[int]:
        desk = self.config.desk
        if not desk.paging_url:
            return []
        with self.sessions() as session:
            return list(session.scalars(select(SlaBreach.id).where(
                SlaBreach.priority.in_(self.rules.page),
                or_(SlaBreach.page_status.is_(None), SlaBreach.page_status == "failed"),
                SlaBreach.page_attempts < desk.paging_max_attempts).order_by(SlaBreach.id)))

    def _page(self, breach_id: int, now: datetime) -> dict[str, Any]:
        """Claim the page (a conditional UPDATE: one caller wins), call the hook, record."""
        with transaction(self.sessions) as session:
            claimed = session.execute(
                update(SlaBreach).where(
                    SlaBreach.id == breach_id,
                    or_(SlaBreach.page_status.is_(None), SlaBreach.page_status == "failed"))
                .values(page_status="sending", page_attempts=SlaBreach.page_attempts + 1)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            payload = self._payload(session, breach_id) if claimed == 1 else None
        if payload is None:
            return {"breach_id": breach_id, "status": "skipped"}
        status, error = self._call(payload)
        with transaction(self.sessions) as session:
            row = session.get(SlaBreach, breach_id)
            if row is not None:
                row.page_status, row.page_error = status, error
                row.paged_at = now if status == "sent" else row.paged_at
        return {"breach_id": breach_id, "ticket": payload["ticket"], "status": status,
                "error": error}

    def _payload(self, session: Session, breach_id: int) -> dict[str, Any]:
        row = session.get(SlaBreach, breach_id)
        assert row is not None
        ticket = session.get(Ticket, row.ticket_id)
        assert ticket is not None
        return {"event": "sla_breach", "breach_id": row.id, "ticket": ticket.number,
                "priority": row.priority, "kind": row.kind, "department": row.department,
                "community_id": row.community_id, "room": ticket.room,
                "due_at": row.due_at.isoformat(),
                "text": f"【紧急】工单{ticket.number} {KIND_NAMES[row.kind]}超时，"
                        f"{ticket.room or '公共区域'}：{ticket.summary[:40]}，请立即处理"}

    def _call(self, payload: dict[str, Any]) -> tuple[str, str | None]:
        desk = self.config.desk
        try:
            response = self.http.post(desk.paging_url, json=payload,
                                      timeout=desk.paging_timeout_seconds)
        except requests.RequestException as exc:
            return "failed", type(exc).__name__
        if response.status_code >= 300:
            return "failed", f"HTTP {response.status_code}"
        return "sent", None


def _local(moment: datetime, config: Config) -> str:
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(config.service.timezone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def watch_for(services: Any, config: Config | None = None) -> SlaWatch:
    """The watch wired to the app's services (rules from the dispatch rules file)."""
    tickets = services.deps.tickets
    config = config or services.config

    def resolve_after(ticket_type: str, priority: str, start: datetime) -> datetime | None:
        return tickets.rules.deadlines(ticket_type, priority, start)[1]

    return SlaWatch(services.sessions, config, BreachRules.of(tickets.rules.data),
                    Deadlines(resolve_after), publish=services.handover.publish)

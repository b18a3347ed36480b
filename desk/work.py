"""Dispatch to a named worker and the worker's own moves: accept, start, note, complete.

A department head (or a supervisor) dispatches; the worker is told on the console
and, when their WeChat is bound, by a template message through the durable outbox.
State changes go through the ticket service, so the resident hears of each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction, utcnow
from core.models import Ticket, TicketEvent
from desk import alerts
from desk.staff import Member, Staff

OPEN_WORK = ("dispatched", "accepted", "in_progress", "reopened")


class WorkError(ValueError):
    """A dispatch or worker move that is not allowed; the message is shown (Chinese)."""


class TicketMoves(Protocol):
    """The part of the ticket service this module uses (handlers.tickets.service)."""

    def transition(self, number: str, state: str, actor: str, note: str = "",
                   now: Any = None, notify: bool = True, tell: str = "") -> Any: ...

    def add_note(self, number: str, actor: str, note: str) -> Any: ...


class TemplateSender(Protocol):
    def __call__(self, session: Session, openid: str, payload: dict[str, Any],
                 text: str) -> None: ...


@dataclass(frozen=True)
class Actor:
    """Who acts: the console user, with their department role if any."""

    user_id: int
    name: str
    is_admin: bool
    member: Member | None

    @property
    def label(self) -> str:
        return f"staff:{self.name}"


class Work:
    def __init__(self, sessions: sessionmaker[Session], config: Config, tickets: TicketMoves,
                 send_template: TemplateSender | None = None,
                 publish: alerts.Publish | None = None) -> None:
        self.sessions = sessions
        self.config = config
        self.tickets = tickets
        self.staff = Staff(sessions)
        self.send_template = send_template
        self.publish = publish

    def actor(self, user_id: int, name: str, is_admin: bool) -> Actor:
        return Actor(user_id, name, is_admin, self.staff.member(user_id))

    # -- dispatch --------------------------------------------------------------------
    def dispatch(self, number: str, worker_id: int, by: Actor, note: str = "") -> None:
        """派单 to a named worker of the ticket's department (heads and supervisors only)."""
        ticket = self._ticket(number)
        if not (by.is_admin or (by.member and by.member.is_head
                                and by.member.department == ticket.department)):
            raise WorkError(f"只有{ticket.department}负责人或客服主管可以派单")
        worker = self.staff.member(worker_id)
        if worker is None or worker.department != ticket.department:
            raise WorkError(f"请选择{ticket.department}的员工")
        if ticket.state not in OPEN_WORK and ticket.state != "new":
            raise WorkError("工单已完成或已关闭，不能派单")
        if ticket.state in ("new", "reopened"):
            self.tickets.transition(number, "dispatched", by.label, note)
        text = f"新派单：{number} {ticket.room or ''} {ticket.summary[:40]}".strip()
        with transaction(self.sessions) as session:
            row = self._get(session, number)
            row.assignee_id, row.updated_at = worker_id, utcnow()
            session.add(TicketEvent(ticket_id=row.id, kind="assign", actor=by.label,
                                    note=f"派给{worker.name}" + (f"：{note}" if note else "")))
            told = alerts.add(session, [worker_id], "dispatch", text, number, row.community_id)
            self._wechat_notice(session, worker_id, row, text)
        alerts.announce(self.publish, told, "dispatch", text, number)

    def _wechat_notice(self, session: Session, worker_id: int, ticket: Ticket,
                       text: str) -> None:
        openid = self.staff.wechat_openid(worker_id)
        template = self.config.desk.dispatch_template_id
        if not openid or not template or self.send_template is None:
            return
        payload = {"touser": openid, "template_id": template,
                   "url": f"/console/worker/tickets/{ticket.number}",
                   "data": {"first": {"value": "您有新的派单，请及时处理"},
                            "keyword1": {"value": ticket.number},
                            "keyword2": {"value": ticket.room or "公共区域"},
                            "keyword3": {"value": ticket.summary[:60]},
                            "remark": {"value": f"优先级 {ticket.priority}"}}}
        self.send_template(session, openid, payload, text)

    # -- the worker's moves -----------------------------------------------------------
    def accept(self, number: str, by: Actor, tell: str = "") -> None:
        """接单: an unassigned ticket of the worker's department becomes theirs."""
        ticket = self._mine_or_free(number, by)
        if ticket.assignee_id is None:
            with transaction(self.sessions) as session:
                self._get(session, number).assignee_id = by.user_id
        self.tickets.transition(number, "accepted", by.label, "师傅已接单",
                                tell=tell or f"{by.name}师傅已接单")

    def start(self, number: str, by: Actor, tell: str = "") -> None:
        self._mine(number, by)
        self.tickets.transition(number, "in_progress", by.label, "开始处理", tell=tell)

    def complete(self, number: str, by: Actor, note: str = "", tell: str = "") -> None:
        self._mine(number, by)
        self.tickets.transition(number, "resolved", by.label, note or "处理完成", tell=tell)

    def note(self, number: str, by: Actor, text: str) -> None:
        text = text.strip()
        if not text or len(text) > 1000:
            raise WorkError("备注不能为空，且不超过1000字")
        self._mine_or_free(number, by)
        self.tickets.add_note(number, by.label, text)

    # -- what a worker sees -------------------------------------------------------------
    def worker_tickets(self, by: Actor,
                       communities: frozenset[int] | None = None) -> dict[str, list[Ticket]]:
        """Their department's new (unassigned) tickets, in the communities they serve,
        and their own open ones."""
        if by.member is None:
            return {"new": [], "mine": []}
        query = select(Ticket).where(
            Ticket.department == by.member.department, Ticket.assignee_id.is_(None),
            Ticket.state.in_(("dispatched", "reopened")))
        if communities is not None:
            query = query.where(Ticket.community_id.in_(sorted(communities)))
        with self.sessions() as session:
            free = session.scalars(query.order_by(Ticket.priority, Ticket.created_at)).all()
            mine = session.scalars(select(Ticket).where(
                Ticket.assignee_id == by.user_id,
                or_(Ticket.state.in_(OPEN_WORK), Ticket.state == "resolved"))
                .order_by(Ticket.priority, Ticket.created_at)).all()
            return {"new": list(free), "mine": list(mine)}

    # -- helpers -------------------------------------------------------------------------
    def _ticket(self, number: str) -> Ticket:
        with self.sessions() as session:
            return self._get(session, number)

    @staticmethod
    def _get(session: Session, number: str) -> Ticket:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            raise WorkError(f"没有找到工单 {number}")
        return ticket

    def _mine(self, number: str, by: Actor) -> Ticket:
        ticket = self._ticket(number)
        if ticket.assignee_id != by.user_id and not by.is_admin:
            raise WorkError("该工单未派给您，请先接单")
        return ticket

    def _mine_or_free(self, number: str, by: Actor) -> Ticket:
        ticket = self._ticket(number)
        if by.is_admin or ticket.assignee_id == by.user_id:
            return ticket
        if ticket.assignee_id is None and by.member and by.member.department == ticket.department:
            return ticket
        raise WorkError("该工单不属于您或您的部门")

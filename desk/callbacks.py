"""The callback list (回访): closed complaints (all), a share of closed repairs, the bot's
promises of a call back and low chat ratings; an agent records the outcome.

Rows are keyed by why they exist (dedupe_key), so the same close or the same rating
never owes two calls. A dissatisfied outcome on a ticket reopens it (the caller does
the move through the ticket service, so the resident is told as on every change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import DeskConfig
from core.db import transaction, utcnow
from core.models import Ticket
from core.models.desk import Callback

CALLED_TYPES = ("complaint", "repair")


class CallbackError(ValueError):
    """An outcome that cannot be recorded; the message is shown to the agent (Chinese)."""


def sampled(key: str, share: float) -> bool:
    """A stable pseudo-random choice: the same ticket is always in or out of the sample."""
    if share >= 1:
        return True
    if share <= 0:
        return False
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < share


def owed_for_ticket(ticket: Ticket, config: DeskConfig) -> bool:
    """Complaints always; repairs by the configured share (DOMAIN.md: ≥ 80%)."""
    if ticket.type == "complaint":
        return True
    if ticket.type == "repair":
        return sampled(ticket.number, config.repair_callback_share)
    return bool(ticket.wants_callback or ticket.callback_needed)


def _closes(session: Session, ticket_id: int) -> int:
    """How many times this ticket has closed before (a reopened ticket is called again)."""
    from core.models import TicketEvent

    return int(session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.to_state == "closed")) or 0)


def on_ticket_closed(session: Session, ticket: Ticket, now: datetime,
                     config: DeskConfig) -> None:
    """Called inside the closing transaction: add the callback the rules owe for it."""
    if not owed_for_ticket(ticket, config):
        return
    key = f"ticket:{ticket.number}:closed:{_closes(session, ticket.id)}"
    if session.scalar(select(Callback.id).where(Callback.dedupe_key == key)) is not None:
        return
    session.add(Callback(
        community_id=ticket.community_id, dedupe_key=key, source="ticket",
        ticket_id=ticket.id, ticket_type=ticket.type, openid=ticket.openid,
        reason=f"{ticket.number} 已关闭，{'投诉' if ticket.type == 'complaint' else '维修'}回访",
        due_at=now + timedelta(hours=config.callback_due_hours), created_at=now))


def on_promise(session: Session, ticket: Ticket, now: datetime, config: DeskConfig,
               reason: str) -> None:
    """The bot told the resident a person will call (a dissatisfied ticket rating)."""
    key = f"promise:{ticket.number}:{_closes(session, ticket.id)}:{ticket.rating}"
    if session.scalar(select(Callback.id).where(Callback.dedupe_key == key)) is not None:
        return
    session.add(Callback(
        community_id=ticket.community_id, dedupe_key=key[:96], source="promise",
        ticket_id=ticket.id, ticket_type=ticket.type, openid=ticket.openid, reason=reason,
        due_at=now + timedelta(hours=min(config.callback_due_hours, 24)), created_at=now))


def add(sessions: sessionmaker[Session], key: str, source: str, openid: str | None,
        reason: str, config: DeskConfig, community_id: int | None = None,
        now: datetime | None = None) -> bool:
    """A promise or a low rating: add it once (False when it was already on the list)."""
    now = now or utcnow()
    try:
        with transaction(sessions) as session:
            if session.scalar(select(Callback.id).where(Callback.dedupe_key == key)):
                return False
            session.add(Callback(community_id=community_id, dedupe_key=key[:96], source=source,
                                 openid=openid, reason=reason[:500], created_at=now,
                                 due_at=now + timedelta(hours=config.callback_due_hours)))
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class Outcome:
    """What the agent recorded; `reopen` names the ticket to reopen (dissatisfied)."""

    callback_id: int
    reopen: str | None


def record(sessions: sessionmaker[Session], callback_id: int, agent_id: int, reached: bool,
           satisfied: bool | None, note: str, now: datetime | None = None,
           communities: frozenset[int] | None = None) -> Outcome:
    """Close one callback with its outcome; not reached stays a done attempt with a note."""
    now = now or utcnow()
    with transaction(sessions) as session:
        row = session.get(Callback, callback_id)
        if row is None or (communities is not None and row.community_id not in communities):
            raise CallbackError("找不到该回访记录")
        if row.status == "done":
            raise CallbackError("该回访已记录结果")
        row.status, row.reached, row.agent_id = "done", reached, agent_id
        row.satisfied = satisfied if reached else None
        row.note, row.done_at = note.strip()[:1000], now
        reopen = None
        if reached and satisfied is False and row.ticket_id is not None:
            ticket = session.get(Ticket, row.ticket_id)
            reopen = ticket.number if ticket is not None else None
        return Outcome(row.id, reopen)


def open_list(sessions: sessionmaker[Session],
              communities: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Open callbacks, the most overdue first."""
    query = select(Callback, Ticket.number).outerjoin(Ticket, Ticket.id == Callback.ticket_id) \
        .where(Callback.status == "open").order_by(Callback.due_at, Callback.id)
    if communities is not None:
        query = query.where(Callback.community_id.in_(sorted(communities)))
    with sessions() as session:
        return [as_dict(row, number) for row, number in session.execute(query)]


def as_dict(row: Callback, number: str | None) -> dict[str, Any]:
    return {"id": row.id, "source": row.source, "ticket": number, "type": row.ticket_type,
            "openid": row.openid, "reason": row.reason, "community_id": row.community_id,
            "due_at": row.due_at.isoformat(), "status": row.status, "reached": row.reached,
            "satisfied": row.satisfied, "note": row.note,
            "created_at": row.created_at.isoformat()}

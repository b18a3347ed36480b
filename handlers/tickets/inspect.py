"""What `wuye inspect OPENID --json` shows of a resident's homes and tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Ticket
from handlers.tickets.households import Households
from handlers.tickets.views import TicketView


def bound_rooms(sessions: sessionmaker[Session], openid: str) -> list[str]:
    """Display forms of the homes this WeChat user is bound to, e.g. 3栋2单元502."""
    return [room.display for room in Households(sessions).rooms(openid)]


def tickets_for(sessions: sessionmaker[Session], openid: str) -> list[dict[str, Any]]:
    """The resident's tickets, newest first: number, type, department, priority, room..."""
    with sessions() as session:
        rows = session.scalars(select(Ticket).where(Ticket.openid == openid)
                               .order_by(Ticket.id.desc())).all()
        views = [TicketView.of(t) for t in rows]
    return [view.to_dict() for view in views]

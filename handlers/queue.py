"""Where a waiting resident stands: place in the queue and the wait, from agents online."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models.console import ConsoleUser, HandoverRecord


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1 = next
    agents_online: int
    minutes: int  # expected wait; 0 when nobody is online to say


class HandoverQueue:
    """Reads the open handover records (the queue) and the agents' presence."""

    def __init__(self, sessions: sessionmaker[Session], minutes_per_resident: int) -> None:
        self.sessions = sessions
        self.minutes_per_resident = minutes_per_resident

    def place(self, openid: str) -> QueuePlace:
        """The resident's place; one not queued yet counts as joining at the end."""
        with self.sessions() as session:
            waiting = session.scalars(
                select(HandoverRecord.openid)
                .where(HandoverRecord.ended_at.is_(None), HandoverRecord.taken_at.is_(None))
                .order_by(HandoverRecord.requested_at, HandoverRecord.id)).all()
            online = session.scalar(select(func.count()).select_from(ConsoleUser).where(
                ConsoleUser.active.is_(True), ConsoleUser.presence == "online")) or 0
        order = list(dict.fromkeys(waiting))
        position = order.index(openid) + 1 if openid in order else len(order) + 1
        minutes = math.ceil(position / online) * self.minutes_per_resident if online else 0
        return QueuePlace(position, int(online), minutes)

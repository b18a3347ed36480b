"""Console alerts for staff: stored (seen on the next page load) and published live."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models.desk import ConsoleAlert

Publish = Callable[[dict[str, Any]], None]


def add(session: Session, user_ids: Iterable[int], kind: str, text: str,
        number: str | None = None, community_id: int | None = None,
        now: datetime | None = None) -> list[int]:
    """Add one alert per user inside the caller's transaction; returns the users told."""
    told = sorted(set(user_ids))
    for user_id in told:
        session.add(ConsoleAlert(user_id=user_id, kind=kind, text=text, ticket_number=number,
                                 community_id=community_id, created_at=now or utcnow()))
    return told


def announce(publish: Publish | None, user_ids: list[int], kind: str, text: str,
             number: str | None = None) -> None:
    """Tell open consoles (after the commit): each page shows the ones for its user."""
    if publish is not None and user_ids:
        publish({"type": "alert", "kind": kind, "user_ids": user_ids, "text": text,
                 "ticket": number})


def unread(sessions: sessionmaker[Session], user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(ConsoleAlert).where(
            ConsoleAlert.user_id == user_id, ConsoleAlert.read_at.is_(None))
            .order_by(ConsoleAlert.id.desc()).limit(limit))
        return [{"id": a.id, "kind": a.kind, "text": a.text, "ticket": a.ticket_number,
                 "created_at": a.created_at.isoformat()} for a in rows]


def mark_read(sessions: sessionmaker[Session], user_id: int) -> None:
    with transaction(sessions) as session:
        for row in session.scalars(select(ConsoleAlert).where(
                ConsoleAlert.user_id == user_id, ConsoleAlert.read_at.is_(None))):
            row.read_at = utcnow()

"""The ticket board's query: filters, search, and the rows it shows with SLA countdowns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Ticket
from core.models.console import ConsoleUser

PAGE_SIZE = 100
CLOSED_STATES = ("resolved", "closed", "cancelled")


@dataclass(frozen=True)
class BoardFilter:
    """What the board's form asks for; every field optional."""

    state: str = ""
    type: str = ""
    department: str = ""
    priority: str = ""
    overdue: bool = False
    place: str = ""  # building or place, e.g. 3栋 or 车库
    day_from: date | None = None
    day_to: date | None = None
    q: str = ""  # ticket number, room, or the last 4 digits of a phone
    assignee_id: int | None = None
    community_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> BoardFilter:
        def day(key: str) -> date | None:
            try:
                return date.fromisoformat(str(args.get(key) or ""))
            except ValueError:
                return None

        assignee = str(args.get("assignee") or "")
        community = str(args.get("community") or "")
        return cls(state=str(args.get("state") or ""), type=str(args.get("type") or ""),
                   department=str(args.get("department") or ""),
                   priority=str(args.get("priority") or ""),
                   overdue=args.get("overdue") in ("1", "on", "true"),
                   place=str(args.get("place") or "").strip()[:32],
                   day_from=day("from"), day_to=day("to"),
                   q=str(args.get("q") or "").strip()[:32],
                   assignee_id=int(assignee) if assignee.isdigit() else None,
                   community_id=int(community) if community.isdigit() else None)


def apply(query: Select[Any], f: BoardFilter, now: datetime, zone: ZoneInfo) -> Select[Any]:
    if f.state == "open":
        query = query.where(Ticket.state.not_in(CLOSED_STATES))
    elif f.state:
        query = query.where(Ticket.state == f.state)
    for column, value in ((Ticket.type, f.type), (Ticket.department, f.department),
                          (Ticket.priority, f.priority)):
        if value:
            query = query.where(column == value)
    if f.community_id is not None:
        query = query.where(Ticket.community_id == f.community_id)
    if f.assignee_id is not None:
        query = query.where(Ticket.assignee_id == f.assignee_id)
    if f.overdue:
        query = query.where(Ticket.state.not_in(CLOSED_STATES), or_(
            Ticket.overdue.is_(True),
            Ticket.resolve_due < now,
            (Ticket.first_responded_at.is_(None)) & (Ticket.response_due < now)))
    if f.place:
        query = query.where(or_(Ticket.room.contains(f.place), Ticket.summary.contains(f.place)))
    if f.day_from:
        query = query.where(Ticket.created_at >= datetime.combine(f.day_from, time(), zone))
    if f.day_to:
        end = datetime.combine(f.day_to + timedelta(days=1), time(), zone)
        query = query.where(Ticket.created_at < end)
    if f.q:
        query = query.where(_search(f.q))
    return query


def _search(q: str) -> Any:
    """A number (full or its tail), a room, or the last 4 digits of the resident's phone."""
    terms = [Ticket.number.contains(q.upper()), Ticket.room.contains(q)]
    if q.isdigit() and len(q) == 4:
        terms.append(Ticket.phone.endswith(q))
    return or_(*terms)


def rows(sessions: sessionmaker[Session], f: BoardFilter, now: datetime, zone: ZoneInfo,
         communities: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Open emergencies first, then by deadline; each row carries its SLA countdown."""
    query = apply(select(Ticket), f, now, zone)
    if communities is not None:
        query = query.where(Ticket.community_id.in_(sorted(communities)))
    query = query.order_by(Ticket.priority, Ticket.created_at.desc()).limit(PAGE_SIZE)
    with sessions() as session:
        names = dict(session.execute(select(ConsoleUser.id, ConsoleUser.display_name)).all())
        found = [row(t, now, names) for t in session.scalars(query)]
    return sorted(found, key=lambda r: (r["closed"], r["priority"], r["seconds_left"] is None,
                                        r["seconds_left"] or 0))


def countdown(ticket: Ticket, now: datetime) -> tuple[str, int | None]:
    """Which promise is next (响应/完成) and seconds left (negative: overdue)."""
    if ticket.state in CLOSED_STATES:
        return "", None
    if ticket.first_responded_at is None and ticket.response_due is not None:
        return "响应", int((ticket.response_due - now).total_seconds())
    if ticket.resolve_due is not None:
        return "完成", int((ticket.resolve_due - now).total_seconds())
    return "", None


def row(ticket: Ticket, now: datetime, names: dict[int, str]) -> dict[str, Any]:
    kind, left = countdown(ticket, now)
    return {"number": ticket.number, "type": ticket.type, "state": ticket.state,
            "department": ticket.department, "priority": ticket.priority,
            "room": ticket.room, "summary": ticket.summary, "category": ticket.category,
            "assignee": names.get(ticket.assignee_id or 0) if ticket.assignee_id else None,
            "assignee_id": ticket.assignee_id, "created_at": ticket.created_at,
            "deadline_kind": kind, "seconds_left": left, "paused": ticket.paused,
            "overdue": bool(ticket.overdue) or (left is not None and left < 0),
            "closed": ticket.state in CLOSED_STATES, "community_id": ticket.community_id}


def left_text(seconds: int | None) -> str:
    """剩余 1小时20分 / 超时 35分钟, as the board shows it."""
    if seconds is None:
        return "—"
    minutes = abs(seconds) // 60
    span = f"{minutes // 60}小时{minutes % 60}分" if minutes >= 60 else f"{minutes}分钟"
    return f"剩余 {span}" if seconds >= 0 else f"超时 {span}"

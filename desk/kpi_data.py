"""The rows the KPIs are computed from, loaded once for a period and then sliced
(by day/week/month, by community) in memory."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Conversation, Message, Resident, Ticket
from core.models.console import ConversationRating, HandoverRecord
from core.models.desk import Callback, QualityReview, SlaBreach

RESIDENT_TYPES = ("text", "voice")
BAD_DELIVERY = ("failed", "undeliverable")
# How long after the period a reply to its last messages is still looked for.
REPLY_LOOKAHEAD = timedelta(days=2)


@dataclass(frozen=True)
class Inbound:
    at: datetime
    intent: str | None
    community_id: int | None
    replied_after: float | None  # seconds to the first good reply; None: never answered


@dataclass(frozen=True)
class Rows:
    """Plain copies of the period's records, each with the time it counts at."""

    inbound: list[Inbound] = field(default_factory=list)
    conversations: list[tuple[datetime, int | None, bool]] = field(default_factory=list)
    handovers: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)  # created in the period
    closed: list[dict[str, Any]] = field(default_factory=list)  # closed in the period
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    earlier_complaints: list[dict[str, Any]] = field(default_factory=list)

    def within(self, start: datetime, end: datetime) -> Rows:
        def keep(at: datetime) -> bool:
            return start <= at < end

        return Rows(
            inbound=[m for m in self.inbound if keep(m.at)],
            conversations=[c for c in self.conversations if keep(c[0])],
            handovers=[h for h in self.handovers if keep(h["at"])],
            ratings=[r for r in self.ratings if keep(r["at"])],
            tickets=[t for t in self.tickets if keep(t["at"])],
            closed=[t for t in self.closed if keep(t["closed_at"])],
            callbacks=self.callbacks, breaches=[b for b in self.breaches if keep(b["at"])],
            reviews=[r for r in self.reviews if keep(r["at"])],
            earlier_complaints=self.earlier_complaints + [
                t for t in self.tickets if t["at"] < start and t["type"] == "complaint"])

    def only(self, community_id: int | None) -> Rows:
        return self.among({community_id})

    def among(self, ids: set[int | None] | frozenset[int]) -> Rows:
        def mine(row: dict[str, Any]) -> bool:
            return row.get("community_id") in ids

        return replace(
            self, inbound=[m for m in self.inbound if m.community_id in ids],
            conversations=[c for c in self.conversations if c[1] in ids],
            handovers=[h for h in self.handovers if mine(h)],
            ratings=[r for r in self.ratings if mine(r)],
            tickets=[t for t in self.tickets if mine(t)],
            closed=[t for t in self.closed if mine(t)],
            breaches=[b for b in self.breaches if mine(b)],
            reviews=[r for r in self.reviews if mine(r)])


def load(sessions: sessionmaker[Session], start: datetime, end: datetime) -> Rows:
    with sessions() as session:
        home = dict(session.execute(select(Resident.openid, Resident.community_id)).all())
        return Rows(
            inbound=_inbound(session, start, end, home),
            conversations=_conversations(session, start, end, home),
            handovers=_handovers(session, start, end),
            ratings=_ratings(session, start, end, home),
            tickets=[_ticket(t) for t in session.scalars(select(Ticket).where(
                Ticket.created_at >= start - timedelta(days=30), Ticket.created_at < end))],
            closed=[_ticket(t) for t in session.scalars(select(Ticket).where(
                Ticket.closed_at >= start, Ticket.closed_at < end, Ticket.state == "closed"))],
            callbacks=[{"ticket_id": c.ticket_id, "status": c.status, "reached": c.reached,
                        "satisfied": c.satisfied, "source": c.source,
                        "community_id": c.community_id, "at": c.done_at or c.created_at}
                       for c in session.scalars(select(Callback))],
            breaches=[{"department": b.department, "priority": b.priority, "kind": b.kind,
                       "community_id": b.community_id, "at": b.detected_at}
                      for b in session.scalars(select(SlaBreach).where(
                          SlaBreach.detected_at >= start, SlaBreach.detected_at < end))],
            reviews=[{"agent_id": r.agent_id, "score": r.score, "community_id": r.community_id,
                      "at": r.created_at, "status": r.status}
                     for r in session.scalars(select(QualityReview).where(
                         QualityReview.created_at >= start, QualityReview.created_at < end))],
        ).within(start, end)


def _inbound(session: Session, start: datetime, end: datetime,
             home: dict[str, int | None]) -> list[Inbound]:
    rows = session.execute(select(Message.id, Message.openid, Message.created_at, Message.nlu)
                           .where(Message.direction == "in", Message.sender == "resident",
                                  Message.msg_type.in_(RESIDENT_TYPES),
                                  Message.created_at >= start, Message.created_at < end)).all()
    replies: dict[str, list[tuple[int, datetime]]] = {}
    for openid, message_id, at in session.execute(
            select(Message.openid, Message.id, Message.created_at).where(
                Message.direction == "out", Message.status.not_in(BAD_DELIVERY),
                Message.created_at >= start, Message.created_at < end + REPLY_LOOKAHEAD)
            .order_by(Message.id)):
        replies.setdefault(openid, []).append((message_id, at))
    found = []
    for message_id, openid, at, nlu in rows:
        after = replies.get(openid, [])
        index = bisect_right(after, (message_id, datetime.max.replace(tzinfo=at.tzinfo)))
        seconds = (after[index][1] - at).total_seconds() if index < len(after) else None
        found.append(Inbound(at, (nlu or {}).get("intent"), home.get(openid), seconds))
    return found


def _conversations(session: Session, start: datetime, end: datetime,
                   home: dict[str, int | None]) -> list[tuple[datetime, int | None, bool]]:
    asked = set(session.scalars(select(HandoverRecord.conversation_id).where(
        HandoverRecord.reason != "agent", HandoverRecord.conversation_id.is_not(None))))
    return [(c.started_at, home.get(c.openid), c.id in asked)
            for c in session.scalars(select(Conversation).where(
                Conversation.started_at >= start, Conversation.started_at < end))]


def _handovers(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [{"at": h.requested_at, "agent_id": h.agent_id, "reason": h.reason,
             "community_id": getattr(h, "community_id", None),
             "first_response": (h.first_response_at - h.requested_at).total_seconds()
             if h.first_response_at else None}
            for h in session.scalars(select(HandoverRecord).where(
                HandoverRecord.requested_at >= start, HandoverRecord.requested_at < end,
                HandoverRecord.reason != "agent"))]


def _ratings(session: Session, start: datetime, end: datetime,
             home: dict[str, int | None]) -> list[dict[str, Any]]:
    return [{"at": r.asked_at, "score": r.score, "agent_id": r.agent_id,
             "community_id": home.get(r.openid)}
            for r in session.scalars(select(ConversationRating).where(
                ConversationRating.asked_at >= start, ConversationRating.asked_at < end))]


def _ticket(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "at": t.created_at, "type": t.type, "priority": t.priority,
            "department": t.department, "category": t.category, "state": t.state,
            "openid": t.openid, "room_key": t.room_key, "community_id": t.community_id,
            "rating": t.rating, "closed_at": t.closed_at,
            "first_response": (t.first_responded_at - t.created_at).total_seconds()
            if t.first_responded_at else None,
            "resolution": (t.resolved_at - t.created_at).total_seconds()
            if t.resolved_at else None}

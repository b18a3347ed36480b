"""The handover KPIs as the service center reports them (DOMAIN.md), over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from communities.staff import Scope
from core.db import utcnow
from core.models import Conversation, Resident
from core.models.console import ConversationRating, HandoverRecord
from handlers.human import SATISFIED_MIN_SCORE


@dataclass(frozen=True)
class Kpis:
    days: int
    conversations: int
    handovers: int
    answered: int
    first_response_seconds: list[float]
    ratings: int
    satisfied: int

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def handover_rate(self) -> float | None:
        """Handovers requested / conversations."""
        return self._rate(self.handovers, self.conversations)

    @property
    def answer_rate(self) -> float | None:
        """人工应答率 = handovers answered by an agent / handovers requested."""
        return self._rate(self.answered, self.handovers)

    @property
    def self_service_rate(self) -> float | None:
        if not self.conversations:
            return None
        return max(self.conversations - self.handovers, 0) / self.conversations

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 = satisfied ratings / all ratings."""
        return self._rate(self.satisfied, self.ratings)

    @property
    def first_response_avg(self) -> float | None:
        times = self.first_response_seconds
        return sum(times) / len(times) if times else None

    @property
    def first_response_median(self) -> float | None:
        return median(self.first_response_seconds) if self.first_response_seconds else None


def compute(sessions: sessionmaker[Session], days: int = 30, scope: Scope = None) -> Kpis:
    """The KPIs over the last `days`; `scope` limits them to some communities."""
    since = utcnow() - timedelta(days=days)
    conversations_q = select(func.count()).select_from(Conversation).where(
        Conversation.started_at >= since)
    records_q = select(HandoverRecord).where(HandoverRecord.requested_at >= since,
                                             HandoverRecord.reason != "agent")
    ratings_q = select(ConversationRating).where(ConversationRating.asked_at >= since,
                                                 ConversationRating.score.is_not(None))
    if scope is not None:
        ids = list(scope)
        conversations_q = conversations_q.join(
            Resident, Resident.openid == Conversation.openid).where(Resident.community_id.in_(ids))
        records_q = records_q.where(HandoverRecord.community_id.in_(ids))
        ratings_q = ratings_q.join(HandoverRecord, HandoverRecord.id ==
                                   ConversationRating.handover_id).where(
            HandoverRecord.community_id.in_(ids))
    with sessions() as session:
        conversations = session.scalar(conversations_q) or 0
        records = session.scalars(records_q).all()
        ratings = session.scalars(ratings_q).all()
        firsts = [(r.first_response_at - r.requested_at).total_seconds()
                  for r in records if r.first_response_at is not None]
        return Kpis(
            days=days, conversations=int(conversations), handovers=len(records),
            # answered means an agent replied; taking over without a word does not count
            answered=sum(1 for r in records if r.first_response_at is not None),
            first_response_seconds=firsts, ratings=len(ratings),
            satisfied=sum(1 for r in ratings if (r.score or 0) >= SATISFIED_MIN_SCORE),
        )

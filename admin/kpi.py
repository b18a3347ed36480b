"""The handover KPIs as the service center reports them (DOMAIN.md), over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow
from core.models import Conversation
from core.models.console import ConversationRating, HandoverRecord
from handlers.ratings import SATISFIED_MIN_SCORE


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


def compute(sessions: sessionmaker[Session], days: int = 30) -> Kpis:
    since = utcnow() - timedelta(days=days)
    with sessions() as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation)
                                       .where(Conversation.started_at >= since)) or 0
        records = session.scalars(select(HandoverRecord).where(
            HandoverRecord.requested_at >= since, HandoverRecord.reason != "agent")).all()
        ratings = session.scalars(select(ConversationRating).where(
            ConversationRating.asked_at >= since,
            ConversationRating.score.is_not(None))).all()
        firsts = [(r.first_response_at - r.requested_at).total_seconds()
                  for r in records if r.first_response_at is not None]
        return Kpis(
            days=days, conversations=int(conversations), handovers=len(records),
            answered=sum(1 for r in records if r.taken_at is not None),
            first_response_seconds=firsts, ratings=len(ratings),
            satisfied=sum(1 for r in ratings if (r.score or 0) >= SATISFIED_MIN_SCORE),
        )

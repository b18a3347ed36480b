"""猜你想问: the questions the subscribe welcome and the 常见问题 button offer.

An admin pins a list per community (or company-wide); without one, the entries
answered most in the last 30 days are offered, and without answers yet, the
menu's default list.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import KnowledgeConfig
from core.db import transaction, utcnow
from core.models.knowledge_loop import WelcomeCard
from knowledge_base.repository import FaqRepository
from knowledge_loop.feedback import FeedbackStore


class WelcomeCards:
    def __init__(self, sessions: sessionmaker[Session],
                 config: KnowledgeConfig | None = None) -> None:
        self.sessions = sessions
        self.config = config or KnowledgeConfig()

    def pinned(self, community_id: int | None = None) -> list[str]:
        with self.sessions() as session:
            row = session.scalars(select(WelcomeCard).where(
                WelcomeCard.community_id.is_(None) if community_id is None
                else WelcomeCard.community_id == community_id)).first()
            return list(row.faq_ids) if row is not None else []

    def faq_ids(self, community_id: int | None = None, limit: int | None = None,
                fallback: list[str] | None = None) -> list[str]:
        """What to offer now: pinned (community, else company), else most asked, else
        `fallback` or the configured default; only entries enabled and in force."""
        live = {f.id for f in FaqRepository(self.sessions).list(enabled_only=True)}
        limit = limit or self.config.welcome_questions
        for ids in (self.pinned(community_id) if community_id is not None else [],
                    self.pinned(None),
                    FeedbackStore(self.sessions, self.config).most_answered(limit),
                    fallback or self.config.welcome_default.split(",")):
            chosen = [i for i in ids if i in live][:limit]
            if chosen:
                return chosen
        return []

    def pin(self, faq_ids: list[str], by: str, community_id: int | None = None) -> list[str]:
        known = {f.id for f in FaqRepository(self.sessions).list()}
        ids = [i for i in dict.fromkeys(faq_ids) if i in known]
        with transaction(self.sessions) as session:
            row = session.scalars(select(WelcomeCard).where(
                WelcomeCard.community_id.is_(None) if community_id is None
                else WelcomeCard.community_id == community_id)).first()
            if row is None:
                row = WelcomeCard(community_id=community_id)
                session.add(row)
            row.faq_ids, row.updated_by, row.updated_at = ids, by, utcnow()
        return ids

"""Per-community answers: a community's own entry for a company FAQ topic wins there.

The NLU decides by topic over the company-wide entries (faq_entries); which text a
resident then reads is resolved here for their community: the community's override
if it has an enabled one, else the company entry, and never an entry that belongs
to another community only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models import Community, FaqEntry, FaqOverride
from knowledge_base.repository import Faq, FaqRepository


class OverrideError(ValueError):
    """An override that cannot be saved (no such company entry)."""


@dataclass(frozen=True)
class Override:
    """A detached copy of one community's answer to a topic."""

    faq_id: str
    community_id: int
    question: str
    similar_questions: list[str]
    answer: str
    enabled: bool
    version: int
    updated_at: datetime | None
    updated_by: str

    @classmethod
    def of(cls, row: FaqOverride) -> Override:
        return cls(faq_id=row.faq_id, community_id=row.community_id, question=row.question,
                   similar_questions=list(row.similar_questions or []), answer=row.answer,
                   enabled=row.enabled, version=row.version, updated_at=row.updated_at,
                   updated_by=row.updated_by)


class CommunityKnowledge:
    """Resolves entries for a community and keeps its overrides."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._entries = FaqRepository(sessions)

    def resolve(self, faq_id: str, community_id: int | None) -> Faq | None:
        """What a resident of this community reads for the topic (None: nothing to say)."""
        entry = self._entries.get(faq_id)
        if entry is None or not entry.enabled or not entry.valid_at(utcnow()):
            return None  # off, or outside its validity dates
        if entry.community_id is not None and entry.community_id != community_id:
            return None  # a topic of another community only
        override = self.override(faq_id, community_id) if community_id is not None else None
        if override is None or not override.enabled:
            return entry
        return dataclasses.replace(entry, answer=override.answer,
                                   question=override.question or entry.question,
                                   version=override.version, updated_at=override.updated_at,
                                   updated_by=override.updated_by, community_id=community_id)

    def varies(self, faq_id: str) -> bool:
        """Does the answer depend on the community (an override, or one community's own)?"""
        with self._sessions() as session:
            entry = session.get(FaqEntry, faq_id)
            if entry is not None and entry.community_id is not None:
                return True
            return session.scalar(select(FaqOverride.faq_id).where(
                FaqOverride.faq_id == faq_id, FaqOverride.enabled.is_(True)).limit(1)) is not None

    def belongs_elsewhere(self, faq_id: str, community_id: int | None) -> bool:
        """True when the topic exists but only for another community."""
        entry = self._entries.get(faq_id)
        return bool(entry and entry.community_id is not None
                    and entry.community_id != community_id)

    def override(self, faq_id: str, community_id: int) -> Override | None:
        with self._sessions() as session:
            row = session.get(FaqOverride, (faq_id, community_id))
            return Override.of(row) if row is not None else None

    def overrides(self, community_id: int | None = None) -> list[Override]:
        query = select(FaqOverride).order_by(FaqOverride.community_id, FaqOverride.faq_id)
        if community_id is not None:
            query = query.where(FaqOverride.community_id == community_id)
        with self._sessions() as session:
            return [Override.of(row) for row in session.scalars(query)]

    def save_override(self, faq_id: str, community_id: int, answer: str, *,
                      question: str = "", similar_questions: Iterable[str] = (),
                      enabled: bool = True, updated_by: str = "system") -> Override:
        """Create or update the community's answer; its version goes up by one."""
        with transaction(self._sessions) as session:
            if session.get(FaqEntry, faq_id) is None:
                raise OverrideError(f"no company FAQ entry {faq_id!r} to override")
            row = session.get(FaqOverride, (faq_id, community_id))
            if row is None:
                row = FaqOverride(faq_id=faq_id, community_id=community_id, version=0)
                session.add(row)
            row.question = question.strip()
            row.answer = answer.strip()
            row.similar_questions = [q.strip() for q in similar_questions if q.strip()]
            row.enabled = enabled
            row.version = (row.version or 0) + 1
            row.updated_at, row.updated_by = utcnow(), updated_by
            session.flush()
            return Override.of(row)

    def community_names(self) -> list[str]:
        """Names and aliases of every active community, for the NLU to treat as places
        residents live in rather than words a FAQ entry must contain."""
        with self._sessions() as session:
            rows = session.execute(select(Community.name, Community.aliases).where(
                Community.active.is_(True))).all()
        return sorted({n for name, aliases in rows for n in (name, *(aliases or [])) if n})

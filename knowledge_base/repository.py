"""FAQ entries behind a narrow interface, so callers never touch SQLAlchemy rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models.knowledge_base import FaqEntry

# Bumped on every write made through this process, so a retriever living in the
# same process sees an edit at once without asking the database.
_local_writes = itertools.count(1)
_local_generation = 0


def local_generation() -> int:
    """How many FAQ writes this process has made (a cheap change signal)."""
    return _local_generation


def _note_write() -> None:
    global _local_generation
    _local_generation = next(_local_writes)


def note_bulk_write() -> None:
    """Bulk writes made outside this repository (an import) signal their change too."""
    _note_write()


@dataclass(frozen=True)
class Faq:
    """A detached, immutable copy of one FAQ entry."""

    id: str
    category: str
    question: str
    answer: str
    similar_questions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    enabled: bool = True
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str = "system"
    # None: company-wide; set: a topic only that community has.
    community_id: int | None = None

    @classmethod
    def from_row(cls, row: FaqEntry) -> Faq:
        return cls(
            id=row.id,
            category=row.category,
            question=row.question,
            answer=row.answer,
            similar_questions=list(row.similar_questions or []),
            keywords=list(row.keywords or []),
            enabled=row.enabled,
            version=row.version,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
            community_id=row.community_id,
        )


class FaqRepository:
    """Reads and writes FAQ entries; every save bumps the entry's version."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, faq_id: str) -> Faq | None:
        with self._sessions() as session:
            row = session.get(FaqEntry, faq_id)
            return Faq.from_row(row) if row is not None else None

    def list(self, enabled_only: bool = False) -> list[Faq]:
        query = select(FaqEntry).order_by(FaqEntry.id)
        if enabled_only:
            query = query.where(FaqEntry.enabled.is_(True))
        with self._sessions() as session:
            return [Faq.from_row(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(FaqEntry)) or 0)

    def save(
        self,
        *,
        id: str,
        question: str,
        answer: str,
        category: str = "general",
        similar_questions: Iterable[str] = (),
        keywords: Iterable[str] = (),
        enabled: bool = True,
        updated_by: str = "system",
        community_id: int | None = None,
    ) -> Faq:
        """Create the entry or update it in place; the version goes up by one."""
        with transaction(self._sessions) as session:
            row = session.get(FaqEntry, id)
            if row is None:
                row = FaqEntry(id=id, version=0)
                session.add(row)
            row.category = category
            row.question = question.strip()
            row.answer = answer.strip()
            row.similar_questions = [q.strip() for q in similar_questions if q.strip()]
            row.keywords = [k.strip() for k in keywords if k.strip()]
            row.enabled = enabled
            row.community_id = community_id
            row.version = (row.version or 0) + 1
            row.updated_at = utcnow()
            row.updated_by = updated_by
            session.flush()
            saved = Faq.from_row(row)
        _note_write()
        return saved

    def set_enabled(self, faq_id: str, enabled: bool, updated_by: str = "system") -> Faq | None:
        """Switch an entry on or off (a disabled entry is never answered)."""
        with transaction(self._sessions) as session:
            row = session.get(FaqEntry, faq_id)
            if row is None:
                return None
            row.enabled = enabled
            row.version += 1
            row.updated_at = utcnow()
            row.updated_by = updated_by
            session.flush()
            saved = Faq.from_row(row)
        _note_write()
        return saved

    def stamp(self) -> tuple[int, int]:
        """(entries, sum of versions): changes whenever any entry is added or edited."""
        query = select(func.count(), func.coalesce(func.sum(FaqEntry.version), 0))
        with self._sessions() as session:
            count, total = session.execute(query.select_from(FaqEntry)).one()
        return int(count), int(total)

"""Per-community answers: a community's own entry for a company FAQ topic wins there.

The NLU decides by topic over the company-wide entries (faq_entries); which text a
resident then reads is resolved here for their community: the community's override
if it has an enabled one, else the company entry, and never an entry that belongs
to another community only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cache import SharedReads
from core.db import reading, transaction, utcnow
from core.models import Community, FaqEntry, FaqOverride
from knowledge_base.repository import Faq, FaqRepository, local_generation, note_bulk_write

# A topic's entry and overrides are read for nearly every answer: they are kept per
# topic for this long. An edit made in this process is seen at once (the local write
# generation changes); one made in another process within this many seconds.
TOPIC_SECONDS = 2.0


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


@dataclass(frozen=True)
class _Topic:
    """One topic as last read: the company entry and every community's override."""

    entry: Faq | None
    overrides: dict[int, Override] = field(default_factory=dict)


_TOPICS: SharedReads[str, _Topic] = SharedReads(TOPIC_SECONDS, local_generation)


def _topic(sessions: sessionmaker[Session], faq_id: str) -> _Topic:
    """The topic from the shared cache, read again when stale or after a local edit."""
    return _TOPICS.get(sessions, faq_id, lambda: _read_topic(sessions, faq_id))


def _read_topic(sessions: sessionmaker[Session], faq_id: str) -> _Topic:
    with reading(sessions) as session:
        row = session.get(FaqEntry, faq_id)
        entry = Faq.from_row(row) if row is not None else None
        overrides = {o.community_id: Override.of(o) for o in session.scalars(
            select(FaqOverride).where(FaqOverride.faq_id == faq_id))} if entry else {}
    return _Topic(entry, overrides)


class CommunityKnowledge:
    """Resolves entries for a community and keeps its overrides."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._entries = FaqRepository(sessions)

    def resolve(self, faq_id: str, community_id: int | None) -> Faq | None:
        """What a resident of this community reads for the topic (None: nothing to say)."""
        topic = _topic(self._sessions, faq_id)
        entry = topic.entry
        if entry is None or not entry.enabled or not entry.valid_at(utcnow()):
            return None  # off, or outside its validity dates
        if entry.community_id is not None and entry.community_id != community_id:
            return None  # a topic of another community only
        override = topic.overrides.get(community_id) if community_id is not None else None
        if override is None or not override.enabled:
            return entry
        return dataclasses.replace(entry, answer=override.answer,
                                   question=override.question or entry.question,
                                   version=override.version, updated_at=override.updated_at,
                                   updated_by=override.updated_by, community_id=community_id)

    def varies(self, faq_id: str) -> bool:
        """Does the answer depend on the community (an override, or one community's own)?"""
        topic = _topic(self._sessions, faq_id)
        if topic.entry is not None and topic.entry.community_id is not None:
            return True
        return any(o.enabled for o in topic.overrides.values())

    def belongs_elsewhere(self, faq_id: str, community_id: int | None) -> bool:
        """True when the topic exists but only for another community."""
        entry = _topic(self._sessions, faq_id).entry
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
            saved = Override.of(row)
        note_bulk_write()  # readers in this process see the new answer at once
        return saved

    def community_names(self) -> list[str]:
        """Names and aliases of every active community, for the NLU to treat as places
        residents live in rather than words a FAQ entry must contain."""
        with self._sessions() as session:
            rows = session.execute(select(Community.name, Community.aliases).where(
                Community.active.is_(True))).all()
        return sorted({n for name, aliases in rows for n in (name, *(aliases or [])) if n})

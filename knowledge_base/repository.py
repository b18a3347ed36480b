"""FAQ entries behind a narrow interface, so callers never touch SQLAlchemy rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models.knowledge_base import FaqEntry
from core.models.knowledge_loop import FaqVersion

# What a version snapshot holds: every field an admin edits.
SNAPSHOT_FIELDS = ("question", "similar_questions", "answer", "category", "keywords",
                   "enabled", "valid_from", "valid_until", "community_id")

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
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def valid_at(self, when: datetime) -> bool:
        """Inside its validity window (an entry without dates is always valid)."""
        return (self.valid_from is None or self.valid_from <= when) and \
            (self.valid_until is None or when < self.valid_until)

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
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )


@dataclass(frozen=True)
class FaqRevision:
    """One saved state of an entry, as the history page and rollback read it."""

    faq_id: str
    version: int
    action: str
    changed_by: str
    changed_at: datetime
    snapshot: dict[str, object]


def _valid_now() -> object:
    now = utcnow()
    return and_(or_(FaqEntry.valid_from.is_(None), FaqEntry.valid_from <= now),
                or_(FaqEntry.valid_until.is_(None), FaqEntry.valid_until > now))


def _snapshot(row: FaqEntry) -> dict[str, object]:
    data = {name: getattr(row, name) for name in SNAPSHOT_FIELDS}
    for name in ("valid_from", "valid_until"):
        value = data[name]
        data[name] = value.isoformat() if isinstance(value, datetime) else None
    data["similar_questions"] = list(row.similar_questions or [])
    data["keywords"] = list(row.keywords or [])
    return data


def record_version(session: Session, row: FaqEntry, action: str) -> None:
    """Keep the entry's current state as a version (every write path calls this)."""
    session.add(FaqVersion(faq_id=row.id, version=row.version, community_id=row.community_id,
                           snapshot=_snapshot(row), action=action, changed_by=row.updated_by,
                           changed_at=row.updated_at))


class FaqRepository:
    """Reads and writes FAQ entries; every save bumps the entry's version."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, faq_id: str) -> Faq | None:
        with self._sessions() as session:
            row = session.get(FaqEntry, faq_id)
            return Faq.from_row(row) if row is not None else None

    def list(self, enabled_only: bool = False) -> list[Faq]:
        """Every entry; `enabled_only`: what the bot may answer now (enabled, within dates)."""
        query = select(FaqEntry).order_by(FaqEntry.id)
        if enabled_only:
            query = query.where(FaqEntry.enabled.is_(True), _valid_now())
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
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        action: str = "save",
    ) -> Faq:
        """Create the entry or update it in place; the version goes up by one and the
        new state is kept in the history."""
        with transaction(self._sessions) as session:
            saved = _write(session, id=id, question=question, answer=answer, category=category,
                           similar_questions=similar_questions, keywords=keywords,
                           enabled=enabled, updated_by=updated_by, community_id=community_id,
                           valid_from=valid_from, valid_until=valid_until, action=action)
        _note_write()
        return saved

    def save_many(self, entries: Iterable[dict[str, object]], updated_by: str,
                  action: str = "import") -> list[Faq]:
        """Save several entries in one transaction: all of them, or none (an import)."""
        with transaction(self._sessions) as session:
            saved = [_write(session, **entry, updated_by=updated_by, action=action)  # type: ignore[arg-type]
                     for entry in entries]
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
            record_version(session, row, "enable" if enabled else "disable")
            saved = Faq.from_row(row)
        _note_write()
        return saved

    def stamp(self) -> tuple[int, int, int]:
        """(entries, sum of versions, entries valid now): changes whenever any entry is
        added or edited, or one enters or leaves its validity window."""
        query = select(func.count(), func.coalesce(func.sum(FaqEntry.version), 0))
        valid = select(func.count()).select_from(FaqEntry).where(_valid_now())
        with self._sessions() as session:
            count, total = session.execute(query.select_from(FaqEntry)).one()
            in_force = session.scalar(valid)
        return int(count), int(total), int(in_force or 0)

    def search(self, text: str = "", category: str = "", enabled: bool | None = None,
               community_id: int | None = None) -> list[Faq]:
        """Entries whose id, question, similar questions or answer contain `text`."""
        needle = text.strip().lower()
        found = []
        for faq in self.list():
            if category and faq.category != category:
                continue
            if enabled is not None and faq.enabled != enabled:
                continue
            if community_id is not None and faq.community_id not in (None, community_id):
                continue
            haystack = " ".join([faq.id, faq.question, faq.answer, *faq.similar_questions])
            if needle and needle not in haystack.lower():
                continue
            found.append(faq)
        return found

    def categories(self) -> list[str]:
        with self._sessions() as session:
            return sorted(session.scalars(select(FaqEntry.category).distinct()))

    def history(self, faq_id: str) -> list[FaqRevision]:
        """Every saved state of the entry, newest first."""
        query = select(FaqVersion).where(FaqVersion.faq_id == faq_id) \
            .order_by(FaqVersion.version.desc())
        with self._sessions() as session:
            return [FaqRevision(v.faq_id, v.version, v.action, v.changed_by, v.changed_at,
                                dict(v.snapshot)) for v in session.scalars(query)]

    def rollback(self, faq_id: str, version: int, updated_by: str = "system") -> Faq | None:
        """Save the entry again as it was at `version` (a new version; history is kept)."""
        old = next((r for r in self.history(faq_id) if r.version == version), None)
        if old is None:
            return None
        data = old.snapshot
        return self.save(
            id=faq_id, question=str(data["question"]), answer=str(data["answer"]),
            category=str(data.get("category") or "general"),
            similar_questions=list(data.get("similar_questions") or []),  # type: ignore[call-overload]
            keywords=list(data.get("keywords") or []),  # type: ignore[call-overload]
            enabled=bool(data.get("enabled", True)), updated_by=updated_by,
            community_id=data.get("community_id"),  # type: ignore[arg-type]
            valid_from=_parse_time(data.get("valid_from")),
            valid_until=_parse_time(data.get("valid_until")), action="rollback")

    def set_many_enabled(self, faq_ids: Iterable[str], enabled: bool,
                         updated_by: str = "system") -> int:
        """Bulk enable/disable; returns how many entries changed."""
        changed = 0
        for faq_id in faq_ids:
            current = self.get(faq_id)
            if current is not None and current.enabled != enabled:
                self.set_enabled(faq_id, enabled, updated_by)
                changed += 1
        return changed


def _write(session: Session, *, id: str, question: str, answer: str, category: str = "general",
           similar_questions: Iterable[str] = (), keywords: Iterable[str] = (),
           enabled: bool = True, updated_by: str = "system", community_id: int | None = None,
           valid_from: datetime | None = None, valid_until: datetime | None = None,
           action: str = "save") -> Faq:
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
    row.valid_from, row.valid_until = valid_from, valid_until
    row.version = (row.version or 0) + 1
    row.updated_at = utcnow()
    row.updated_by = updated_by
    session.flush()
    record_version(session, row, action)
    return Faq.from_row(row)


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None

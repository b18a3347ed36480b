"""The unanswered queue: what residents asked that the bot could not answer well.

Items are collected from the stored message log (so no code on the reply path
changes): a message whose decision found no entry, one that fell back unsure, one
handed over because it was not understood, and a question whose answer the
resident rated unhelpful. Open items are grouped by character-bigram cosine, so
"快递柜在哪" and "快递柜在哪里呀" are one group with a count and examples.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction, utcnow
from core.models import Message, Resident
from core.models.console import HandoverRecord
from core.models.knowledge_loop import AnswerFeedback, ScanCursor, UnansweredItem
from knowledge_base.repository import FaqRepository
from nlu.normalize import normalize

REASON_LABELS = {"no_entry": "知识库无对应问题", "fallback": "未理解（兜底回复）",
                 "not_understood": "未理解转人工", "unhelpful": "回答没帮助"}
NOT_UNDERSTOOD = ("fallback", "low_confidence")
BATCH = 500
EXAMPLES = 5


@dataclass
class Group:
    """Similar open items: the queue's unit of work."""

    key: int  # the smallest item id: stable while the group's items stay open
    text: str  # the most frequent wording
    items: list[UnansweredItem] = field(default_factory=list)
    grams: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> list[int]:
        return [item.id for item in self.items]

    @property
    def examples(self) -> list[str]:
        return list(dict.fromkeys(item.text for item in self.items))[:EXAMPLES]

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return Counter(REASON_LABELS.get(i.reason, i.reason) for i in self.items).most_common()

    @property
    def last_at(self) -> datetime:
        return max(item.created_at for item in self.items)

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "text": self.text, "count": self.count, "ids": self.ids,
                "examples": self.examples, "reasons": dict(self.reasons),
                "faq_ids": sorted({i.faq_id for i in self.items if i.faq_id}),
                "last_at": self.last_at.isoformat()}


# The frame of a question, not its topic: dropped before comparing, so 小区有没有洗衣房
# and 洗衣房在什么位置呀 meet on 洗衣房 (and 有没有健身房 stays apart).
_FRAME = re.compile(
    r"请问|麻烦问一下|想问一下|问一下|咨询一下|你们|我们|咱们|小区里?|物业|有没有|有木有|没有|能不能"
    r"|可不可以|可以|是不是|在哪里|在哪儿|在哪|哪里|哪儿|什么地方|什么位置|什么时候|怎么样|怎么办"
    r"|怎么|如何|多少钱|多少|几点|一下|[吗呢呀啊吧嘛么的了有是在我你能要想去]")


def grams(text: str) -> Counter[str]:
    """Character bigrams of the question's topic (its frame words dropped); the whole
    text's when nothing else is left."""
    compact = normalize(text).replace(" ", "")
    topic = _FRAME.sub(" ", compact)
    parts = [p for p in topic.split() if p] or [compact]
    found: Counter[str] = Counter()
    for part in parts:
        found.update(part[i:i + 2] for i in range(len(part) - 1))
        if len(part) == 1:
            found[part] += 1
    return found


def idf_weights(texts: Iterable[str]) -> dict[str, float]:
    """Bigram → idf over a background corpus (the knowledge base's questions), so the
    words every question has (小区, 请问, 有没有) count less than 洗衣 or 洗车."""
    docs = [set(grams(t)) for t in texts]
    df = Counter(g for doc in docs for g in doc)
    total = len(docs)
    return {g: math.log((total + 1) / (n + 1)) + 1 for g, n in df.items()}


def weighted(counts: Counter[str], idf: dict[str, float], unseen: float) -> Counter[str]:
    return Counter({g: n * idf.get(g, unseen) for g, n in counts.items()})


def cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def group_items(items: Iterable[UnansweredItem], threshold: float,
                idf: dict[str, float] | None = None) -> list[Group]:
    """Greedy single pass: each item joins the most similar group (by its summed,
    idf-weighted bigrams)."""
    idf = idf or {}
    unseen = max(idf.values(), default=1.0)
    groups: list[Group] = []
    for item in sorted(items, key=lambda i: i.id):
        item_grams = weighted(grams(item.text), idf, unseen)
        best, score = None, 0.0
        for group in groups:
            similarity = cosine(item_grams, group.grams)
            if similarity > score:
                best, score = group, similarity
        if best is None or score < threshold:
            best = Group(item.id, item.text)
            groups.append(best)
        best.items.append(item)
        best.grams.update(item_grams)
    for group in groups:
        group.text = Counter(i.text for i in group.items).most_common(1)[0][0]
    return sorted(groups, key=lambda g: (-g.count, -g.last_at.timestamp()))


class UnansweredQueue:
    """Collects items from the log, groups the open ones, resolves groups."""

    def __init__(self, sessions: sessionmaker[Session], config: Config | None = None) -> None:
        self.sessions = sessions
        self.config = config
        knowledge = config.knowledge if config is not None else None
        self.threshold = knowledge.group_similarity if knowledge else 0.35

    # -- collecting ------------------------------------------------------------------------
    def collect(self) -> int:
        """Scan messages, handovers and feedback since the last scan; returns items added."""
        added = self._scan_messages() + self._scan_handovers() + self._scan_feedback()
        return added

    def _cursor(self, session: Session, name: str) -> ScanCursor:
        # Locked (PostgreSQL) so two processes scanning at once do not both take the rows.
        cursor = session.get(ScanCursor, name, with_for_update=True)
        if cursor is None:
            cursor = ScanCursor(name=name, last_id=0)
            session.add(cursor)
            session.flush()
        return cursor

    def _scan(self, name: str, fetch: object) -> int:
        added = 0
        while True:
            try:
                with transaction(self.sessions) as session:
                    cursor = self._cursor(session, name)
                    rows = fetch(session, cursor.last_id)  # type: ignore[operator]
                    if not rows:
                        return added
                    for item in self._items(session, name, rows):
                        session.add(item)
                        added += 1
                    cursor.last_id = max(row.id for row in rows)
            except IntegrityError:  # another process scanned the same rows at once
                return added

    def _scan_messages(self) -> int:
        def fetch(session: Session, after: int) -> list[Message]:
            rows = list(session.scalars(select(Message).where(
                Message.id > after, Message.direction == "in").order_by(Message.id).limit(BATCH)))
            # Stop before a message still being answered: its decision is not stored yet.
            done = []
            for row in rows:
                if row.status == "received" and (utcnow() - row.created_at).total_seconds() < 300:
                    break
                done.append(row)
            return done
        return self._scan("messages", fetch)

    def _scan_handovers(self) -> int:
        def fetch(session: Session, after: int) -> list[HandoverRecord]:
            return list(session.scalars(select(HandoverRecord).where(
                HandoverRecord.id > after).order_by(HandoverRecord.id).limit(BATCH)))
        return self._scan("handovers", fetch)

    def _scan_feedback(self) -> int:
        def fetch(session: Session, after: int) -> list[AnswerFeedback]:
            # Only rows already answered: an open question may still be answered later.
            rows = list(session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.id > after, AnswerFeedback.asked.is_(True))
                .order_by(AnswerFeedback.id).limit(BATCH)))
            done = []
            for row in rows:
                if row.answered_at is None and (utcnow() - row.asked_at).total_seconds() < 3600:
                    break
                done.append(row)
            return done
        return self._scan("feedback", fetch)

    def _items(self, session: Session, name: str, rows: list) -> list[UnansweredItem]:  # type: ignore[type-arg]
        items = []
        for row in rows:
            item = {"messages": self._from_message, "handovers": self._from_handover,
                    "feedback": self._from_feedback}[name](session, row)
            if item is not None:
                item.community_id = session.scalar(
                    select(Resident.community_id).where(Resident.openid == item.openid))
                items.append(item)
        return items

    def _from_message(self, session: Session, message: Message) -> UnansweredItem | None:
        reason = self.reason_of(message.nlu or {}, message.text or "")
        if reason is None:
            return None
        return UnansweredItem(message_id=message.id, openid=message.openid,
                              text=message.text.strip()[:500], reason=reason,
                              created_at=message.created_at)

    def reason_of(self, decision: dict[str, object], text: str) -> str | None:
        """Why a stored decision counts as unanswered, or None."""
        if not decision or not text.strip() or len(text.strip()) < 2:
            return None
        intent = decision.get("intent")
        if intent == "faq" and not decision.get("faq_id"):
            return "no_entry"
        if intent in ("emergency", "faq", "greet", "goodbye", "out_of_scope"):
            return None
        nlu = self.config.nlu if self.config is not None else None
        floor = nlu.confidence_threshold if nlu else 0.45
        confidence = float(decision.get("confidence") or 0.0)  # type: ignore[arg-type]
        if confidence < floor and not decision.get("candidates"):
            return "fallback"
        return None

    def _from_handover(self, session: Session, record: HandoverRecord) -> UnansweredItem | None:
        if record.reason not in NOT_UNDERSTOOD or record.message_id is None:
            return None
        known = session.scalar(select(UnansweredItem.id).where(
            UnansweredItem.message_id == record.message_id))
        message = session.get(Message, record.message_id)
        if known is not None or message is None or not (message.text or "").strip():
            return None
        return UnansweredItem(message_id=message.id, openid=message.openid,
                              text=message.text.strip()[:500], reason="not_understood",
                              created_at=message.created_at)

    def _from_feedback(self, session: Session, row: AnswerFeedback) -> UnansweredItem | None:
        text = row.question.strip()
        if row.helpful is not False or len(text) < 2 or text.isdigit():
            return None
        return UnansweredItem(message_id=None, openid=row.openid, text=text[:500],
                              reason="unhelpful", faq_id=row.faq_id, created_at=row.asked_at)

    # -- reading ---------------------------------------------------------------------------
    def open_items(self, community_id: int | None = None) -> list[UnansweredItem]:
        query = select(UnansweredItem).where(UnansweredItem.status == "open")
        if community_id is not None:
            query = query.where(UnansweredItem.community_id == community_id)
        with self.sessions() as session:
            return list(session.scalars(query.order_by(UnansweredItem.id)))

    def groups(self, community_id: int | None = None) -> list[Group]:
        """The open queue, most frequent first (collects new items first)."""
        self.collect()
        background = [t for f in FaqRepository(self.sessions).list()
                      for t in (f.question, *f.similar_questions)]
        return group_items(self.open_items(community_id), self.threshold,
                           idf_weights(background))

    def group(self, key: int) -> Group | None:
        return next((g for g in self.groups() if g.key == key), None)

    def items(self, ids: Iterable[int]) -> list[UnansweredItem]:
        with self.sessions() as session:
            return list(session.scalars(select(UnansweredItem).where(
                UnansweredItem.id.in_(list(ids))).order_by(UnansweredItem.id)))

    # -- resolving -------------------------------------------------------------------------
    def resolve_ids(self, ids: Iterable[int], resolution: str, by: str) -> int:
        """Close items (they leave the queue); returns how many were open."""
        wanted = list(ids)
        with transaction(self.sessions) as session:
            rows = session.scalars(select(UnansweredItem).where(
                UnansweredItem.id.in_(wanted), UnansweredItem.status == "open")).all()
            for row in rows:
                row.status, row.resolution = "resolved", resolution[:64]
                row.resolved_by, row.resolved_at = by, utcnow()
        return len(rows)

    def add_to_entry(self, ids: Iterable[int], faq_id: str, by: str) -> int:
        """Add the items' wordings as similar questions of an entry, then resolve them."""
        repository = FaqRepository(self.sessions)
        entry = repository.get(faq_id)
        if entry is None:
            raise KeyError(faq_id)
        items = self.items(ids)
        known = {entry.question, *entry.similar_questions}
        new = [t for t in dict.fromkeys(i.text for i in items) if t not in known]
        if new:
            repository.save(id=entry.id, question=entry.question, answer=entry.answer,
                            category=entry.category,
                            similar_questions=[*entry.similar_questions, *new],
                            keywords=entry.keywords, enabled=entry.enabled, updated_by=by,
                            community_id=entry.community_id, valid_from=entry.valid_from,
                            valid_until=entry.valid_until, action="queue")
        self.resolve_ids([i.id for i in items], faq_id, by)
        return len(new)

    def agent_replies(self, items: Iterable[UnansweredItem], limit: int = 5) -> list[Message]:
        """Agents' replies to the residents after these messages: candidate answers."""
        found: list[Message] = []
        with self.sessions() as session:
            for item in items:
                if item.message_id is None:
                    continue
                found.extend(session.scalars(select(Message).where(
                    Message.openid == item.openid, Message.id > item.message_id,
                    Message.direction == "out", Message.sender == "agent")
                    .order_by(Message.id).limit(2)))
                if len(found) >= limit:
                    break
        return found[:limit]

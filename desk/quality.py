"""Quality review (质检): every handled conversation rated dissatisfied or left
unresolved, plus a sample, is queued for a supervisor; the agent's replies are checked
against the service language automatically; the supervisor's score and feedback reach
the agent."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction, utcnow
from core.models import Message
from core.models.console import ConversationRating, HandoverRecord
from core.models.desk import QualityReview
from core.yamlfile import load_yaml
from desk import alerts
from desk.callbacks import sampled

LANGUAGE_FILE = Path(__file__).resolve().parent / "data" / "service_language.yaml"
LOOKBACK = timedelta(days=7)


class QualityError(ValueError):
    """A review that cannot be saved; the message is shown to the supervisor."""


@cache
def language() -> dict[str, Any]:
    return dict(load_yaml(LANGUAGE_FILE))


def check(texts: list[str]) -> list[dict[str, str]]:
    """Flags for one agent's replies: each forbidden phrase used, each expected one missing."""
    rules = language()
    flags = []
    for text in texts:
        for phrase in rules["forbidden"]:
            if phrase in text:
                flags.append({"kind": "forbidden", "phrase": phrase, "text": text[:80]})
                break
    joined = "\n".join(texts)
    for key, rule in rules["expected"].items():
        if texts and not any(word in joined for word in rule["any"]):
            flags.append({"kind": "missing", "phrase": key, "text": rule["label"]})
    return flags


def auto_score(flags: list[dict[str, str]]) -> int:
    penalty = language()["penalty"]
    return max(0, 100 - sum(int(penalty[f["kind"]]) for f in flags))


def reason_for(record: HandoverRecord, score: int | None, config: Config) -> str | None:
    """Why this conversation is reviewed, or None (not in the sample)."""
    if score is not None and score <= config.desk.low_rating_max:
        return "dissatisfied"
    if record.first_response_at is None:
        return "unresolved"
    if sampled(f"handover:{record.id}", config.desk.quality_sample_share):
        return "sample"
    return None


def collect(sessions: sessionmaker[Session], config: Config, now: datetime | None = None) -> int:
    """Queue the ended handovers of the last week that need review; returns how many."""
    now = now or utcnow()
    with sessions() as session:
        reviewed = select(QualityReview.handover_id)
        records = session.scalars(select(HandoverRecord).where(
            HandoverRecord.status == "ended", HandoverRecord.ended_at >= now - LOOKBACK,
            HandoverRecord.id.not_in(reviewed))).all()
        items = []
        for record in records:
            score = session.scalar(select(ConversationRating.score).where(
                ConversationRating.handover_id == record.id))
            reason = reason_for(record, score, config)
            if reason is not None:
                items.append((record, reason, check(_agent_texts(session, record))))
    added = 0
    for record, reason, flags in items:
        try:
            with transaction(sessions) as session:
                session.add(QualityReview(
                    community_id=getattr(record, "community_id", None), handover_id=record.id,
                    openid=record.openid, agent_id=record.agent_id, reason=reason,
                    flags=flags, score=None, created_at=now))
            added += 1
        except IntegrityError:
            continue  # another worker queued it
    return added


def _agent_texts(session: Session, record: HandoverRecord) -> list[str]:
    query = select(Message.text).where(
        Message.openid == record.openid, Message.sender == "agent",
        Message.created_at >= record.requested_at)
    if record.ended_at is not None:
        query = query.where(Message.created_at <= record.ended_at)
    return [t for t in session.scalars(query.order_by(Message.id)) if t]


def pending(sessions: sessionmaker[Session],
            communities: frozenset[int] | None = None) -> list[dict[str, Any]]:
    query = select(QualityReview).where(QualityReview.status == "pending")
    if communities is not None:
        query = query.where(QualityReview.community_id.in_(sorted(communities)))
    with sessions() as session:
        rows = session.scalars(query.order_by(QualityReview.id)).all()
        return [as_dict(r) for r in rows]


def detail(sessions: sessionmaker[Session], review_id: int) -> dict[str, Any]:
    with sessions() as session:
        row = session.get(QualityReview, review_id)
        if row is None:
            raise QualityError("找不到该质检记录")
        record = session.get(HandoverRecord, row.handover_id)
        query = select(Message).where(Message.openid == row.openid)
        if record is not None:
            query = query.where(Message.created_at >= record.requested_at - timedelta(minutes=30))
            if record.ended_at is not None:
                query = query.where(Message.created_at <= record.ended_at + timedelta(minutes=5))
        messages = [{"direction": m.direction, "sender": m.sender, "text": m.text}
                    for m in session.scalars(query.order_by(Message.id).limit(200))]
        return as_dict(row) | {"messages": messages}


def review(sessions: sessionmaker[Session], review_id: int, reviewer_id: int, score: int,
           feedback: str, publish: alerts.Publish | None = None) -> None:
    """The supervisor's verdict; the agent is alerted and sees it on their feedback page."""
    if not 0 <= score <= 100:
        raise QualityError("评分须在 0 到 100 之间")
    with transaction(sessions) as session:
        row = session.get(QualityReview, review_id)
        if row is None:
            raise QualityError("找不到该质检记录")
        row.status, row.score, row.reviewer_id = "done", score, reviewer_id
        row.feedback, row.reviewed_at = feedback.strip()[:2000], utcnow()
        text = f"您有一条新的质检反馈：{score}分"
        told = alerts.add(session, [row.agent_id] if row.agent_id else [], "quality", text,
                          None, row.community_id)
    alerts.announce(publish, told, "quality", text)


def for_agent(sessions: sessionmaker[Session], agent_id: int) -> list[dict[str, Any]]:
    """The agent's reviewed conversations, newest first; reading them marks them seen."""
    with transaction(sessions) as session:
        rows = session.scalars(select(QualityReview).where(
            QualityReview.agent_id == agent_id, QualityReview.status == "done")
            .order_by(QualityReview.reviewed_at.desc())).all()
        found = [as_dict(r) for r in rows]
        for row in rows:
            row.seen_at = row.seen_at or utcnow()
        return found


def as_dict(row: QualityReview) -> dict[str, Any]:
    return {"id": row.id, "handover_id": row.handover_id, "openid": row.openid,
            "agent_id": row.agent_id, "reason": row.reason, "flags": list(row.flags or []),
            "auto_score": auto_score(list(row.flags or [])), "status": row.status,
            "score": row.score, "feedback": row.feedback,
            "created_at": row.created_at.isoformat(),
            "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None}

"""The admins' knowledge loop and outreach: FAQ history, unanswered messages, feedback,
retraining jobs, notices, menu versions, the welcome card. Every table carries a
community (NULL: company-wide)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


def _community() -> Mapped[int | None]:
    return mapped_column(ForeignKey("communities.id"), default=None, index=True)


class FaqVersion(Base):
    """One saved state of an FAQ entry: the history, its diffs and rollbacks read these."""

    __tablename__ = "faq_versions"
    __table_args__ = (UniqueConstraint("faq_id", "version", name="uq_faq_versions_faq_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column()
    community_id: Mapped[int | None] = _community()
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(16))  # save|enable|disable|import|rollback
    changed_by: Mapped[str] = mapped_column(String(64), default="system")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredItem(Base):
    """A resident's message the bot could not answer well; grouped in the admins' queue."""

    __tablename__ = "unanswered_items"
    __table_args__ = (
        UniqueConstraint("message_id", "reason", name="uq_unanswered_message_reason"),
        Index("ix_unanswered_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[int | None] = mapped_column(default=None)
    openid: Mapped[str] = mapped_column(String(64), default="")
    community_id: Mapped[int | None] = _community()
    text: Mapped[str] = mapped_column(Text)
    # fallback | no_entry | not_understood | unhelpful
    reason: Mapped[str] = mapped_column(String(16))
    faq_id: Mapped[str | None] = mapped_column(String(64), default=None)  # answered (unhelpful)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(String(64), default=None)  # faq id or note
    resolved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScanCursor(Base):
    """How far a background scan of the message log has read (by message id)."""

    __tablename__ = "scan_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)


class AnswerFeedback(Base):
    """Every FAQ answer given; some are asked 有帮助/没帮助, filled by a numbered reply.

    The rows also count how often each entry is answered (the welcome card's "most asked").
    """

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ix_answer_feedback_openid", "openid", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = _community()
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(Text, default="")  # what the resident asked
    asked: Mapped[bool] = mapped_column(default=False)  # the feedback question was put
    helpful: Mapped[bool | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class TrainingJob(Base):
    """A retraining run from the admin page: progress, before/after report, deployment."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = _community()
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # queued|running|deployed|rejected|failed
    progress: Mapped[int] = mapped_column(default=0)  # percent
    step: Mapped[str] = mapped_column(String(64), default="")
    force: Mapped[bool] = mapped_column(default=False)
    candidate: Mapped[str | None] = mapped_column(Text, default=None)  # artifact path
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Notice(Base):
    """通知公告: composed once, sent as template messages to the residents it targets."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = _community()
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # all | community | building | unit | room; value: "3", "3-2", "3-2-502"
    target: Mapped[str] = mapped_column(String(16), default="community")
    target_value: Mapped[str] = mapped_column(String(32), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # draft | scheduled | sending | sent | cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoticeDelivery(Base):
    """One resident's copy of a notice: its outbox item and WeChat's delivery report."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "openid", name="uq_notice_openid"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    community_id: Mapped[int | None] = _community()
    openid: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int | None] = mapped_column(default=None, index=True)
    # queued | sent | delivered | failed (failed: the outbox gave up or WeChat reported it)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    report: Mapped[str | None] = mapped_column(String(64), default=None)  # WeChat's Status


class MenuVersion(Base):
    """One saved custom menu (WeChat's menu/create JSON) and whether it was pushed."""

    __tablename__ = "menu_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = _community()
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"button": [...]}
    # click key -> {"intent": ..., "text": ...}: what a tapped button starts
    keys: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(200), default="")
    pushed_at: Mapped[datetime | None] = mapped_column(default=None)
    push_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WelcomeCard(Base):
    """猜你想问: the questions the subscribe welcome and 常见问题 offer, in order."""

    __tablename__ = "welcome_cards"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, unique=True)
    faq_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

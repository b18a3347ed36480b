"""The agent console's tables: accounts, canned replies, notes, handovers, ratings, audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class ConsoleUser(Base):
    """An agent (客服专员) or admin (客服主管) who signs in to the console."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent | admin
    active: Mapped[bool] = mapped_column(default=True)
    presence: Mapped[str] = mapped_column(String(16), default="offline")  # online|away|offline
    presence_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A service-language template an agent inserts by its shortcut (e.g. /您好)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    # None: every community's agents use it.
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")


class InternalNote(Base):
    """A note agents leave on a resident's conversation; never sent to the resident."""

    __tablename__ = "internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoverRecord(Base):
    """One request for a person, from queueing to its end: the source of the KPIs."""

    __tablename__ = "handovers"
    __table_args__ = (Index("ix_handovers_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(32))  # human|fallback|anger|low_confidence|...
    # The resident's community when asked (None: not known yet); scopes queue and KPIs.
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    message_id: Mapped[int | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting|agent|ended
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    off_hours: Mapped[bool] = mapped_column(default=False)
    agent_id: Mapped[int | None] = mapped_column(default=None)
    taken_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)  # handed_back|closed


class ConversationRating(Base):
    """满意度: asked when an agent closes; the resident's next reply fills the score."""

    __tablename__ = "conversation_ratings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(default=None)
    handover_id: Mapped[int | None] = mapped_column(default=None)
    agent_id: Mapped[int | None] = mapped_column(default=None)
    score: Mapped[int | None] = mapped_column(default=None)  # 1..5; 5 满意, 3 一般, 1 不满意
    answer: Mapped[str | None] = mapped_column(String(200), default=None)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    rated_at: Mapped[datetime | None] = mapped_column(default=None)


class RevealAudit(Base):
    """Who saw a resident's unmasked phone number, and when (严守业主秘密)."""

    __tablename__ = "reveal_audit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    openid: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(32), default="phone")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One admin action (user, role, password, session, FAQ, canned reply): who, what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

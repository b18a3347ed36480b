"""Residents, conversations, every inbound and outbound message, and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Resident(Base):
    __tablename__ = "residents"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    following: Mapped[bool] = mapped_column(default=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    nickname: Mapped[str | None] = mapped_column(String(64), default=None)
    # The community the resident chose or was last served in (homes decide when bound).
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)


class Conversation(Base):
    """One stretch of talk with a resident; `owner` says who answers: bot, waiting, agent."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(ForeignKey("residents.openid"), index=True)
    owner: Mapped[str] = mapped_column(String(16), default="bot")
    agent_id: Mapped[int | None] = mapped_column(default=None)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class Message(Base):
    """Every push received and every reply sent, with how it was understood and delivered."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_openid_id", "openid", "id"),
        Index("ix_messages_unfinished", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id"), default=None, index=True
    )
    direction: Mapped[str] = mapped_column(String(8))  # "in" | "out"
    msg_type: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    wechat_msg_id: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str | None] = mapped_column(Text, default=None)
    parsed: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    nlu: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    sender: Mapped[str] = mapped_column(String(32), default="resident")  # resident|bot|agent
    # passive | custom | template | none (a notice that could not be sent)
    delivery: Mapped[str | None] = mapped_column(String(16), default=None)
    # in: received|processing|processed|failed|throttled; out: sent|queued|failed|ambiguous|…
    status: Mapped[str] = mapped_column(String(16), default="received")
    needs_agent: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A reply points at the push it answers.
    in_reply_to: Mapped[int | None] = mapped_column(default=None, index=True)
    # Who is processing an inbound push, until when; the sweeper takes over expired leases.
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")


class OutboxItem(Base):
    """A WeChat API send that must happen: retried with backoff until sent or given up."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # custom | template
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    # pending | sending (claimed, lease in next_attempt_at) | sent | failed | ambiguous
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Never two sends with one key: one push's reply parts, one notice.
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # WeChat's msgid for a template send: its TEMPLATESENDJOBFINISH report names it.
    wechat_msgid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)

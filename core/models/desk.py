"""The service desk after the chat: departments and their staff, ticket work, SLA breaches,
callbacks (回访), quality reviews (质检) and console alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Department(Base):
    """A responsible department (责任部门): company-wide, its staff may be community-scoped."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(16), unique=True)
    # What it handles, as DOMAIN.md lists it (shown on the board and the worker page).
    duties: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class StaffMember(Base):
    """A console user who works in a department; `is_head` dispatches to named workers."""

    __tablename__ = "staff_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    is_head: Mapped[bool] = mapped_column(default=False)
    # The worker's own WeChat (OAuth bind): dispatches reach them as template messages.
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    bound_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketPhoto(Base):
    """A photo on a ticket: the resident's (fetched from WeChat's media API) or a worker's."""

    __tablename__ = "ticket_photos"
    __table_args__ = (UniqueConstraint("ticket_id", "media_id", name="uq_ticket_photos_media"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    source: Mapped[str] = mapped_column(String(16))  # resident | worker
    media_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str | None] = mapped_column(Text, default=None)  # under var/media; None: pending
    content_type: Mapped[str] = mapped_column(String(64), default="image/jpeg")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    uploaded_by: Mapped[str] = mapped_column(String(64), default="resident")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaBreach(Base):
    """One missed deadline of one ticket; unique, so it escalates and pages at most once."""

    __tablename__ = "sla_breaches"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "due_at", name="uq_sla_breach"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # response | resolve
    department: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))  # at the breach, before any raise
    raised_to: Mapped[str | None] = mapped_column(String(4), default=None)
    due_at: Mapped[datetime] = mapped_column()
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    alerted: Mapped[list[Any]] = mapped_column(JSON, default=list)  # user ids told
    page_status: Mapped[str | None] = mapped_column(String(16), default=None)  # sent|failed
    page_attempts: Mapped[int] = mapped_column(default=0)
    paged_at: Mapped[datetime | None] = mapped_column(default=None)
    page_error: Mapped[str | None] = mapped_column(Text, default=None)


class Callback(Base):
    """A call back (回访) owed to a resident: a closed ticket, a promise, a low rating."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    # One callback per reason: e.g. "ticket:TS20261118-0001:closed:1" or "rating:42".
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # ticket | promise | rating
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None,
                                                  index=True)
    ticket_type: Mapped[str | None] = mapped_column(String(24), default=None)
    openid: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    reached: Mapped[bool | None] = mapped_column(default=None)
    satisfied: Mapped[bool | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class QualityReview(Base):
    """质检 of one handled conversation: automatic flags, a supervisor's score and feedback."""

    __tablename__ = "quality_reviews"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), default=None,
                                                 index=True)
    reason: Mapped[str] = mapped_column(String(16))  # dissatisfied | unresolved | sample
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    score: Mapped[int | None] = mapped_column(default=None)  # 0..100
    feedback: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"),
                                                    default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)


class ConsoleAlert(Base):
    """Something a staff member must see: a dispatch to them, a breach in their department."""

    __tablename__ = "console_alerts"
    __table_args__ = (Index("ix_console_alerts_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # dispatch | sla | callback | quality
    text: Mapped[str] = mapped_column(Text)
    ticket_number: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)

"""Communities (小区) under the one Official Account, and which staff serve which of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Community(Base):
    """One compound: its own name, numbers, hours and the departments on duty there."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Other names residents use for it (翠湖, 翠湖小区): how a mention is recognised.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(Text, default="")
    hotline: Mapped[str] = mapped_column(String(32), default="")
    emergency_phone: Mapped[str] = mapped_column(String(32), default="")
    weekday_hours: Mapped[str] = mapped_column(String(16), default="09:00-18:00")
    weekend_hours: Mapped[str] = mapped_column(String(16), default="09:00-17:30")
    # Public holidays (weekend hours apply), comma-separated YYYY-MM-DD.
    holidays: Mapped[str] = mapped_column(Text, default="")
    duty_departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffCommunity(Base):
    """A console user scoped to a community; a user with no rows serves the whole company."""

    __tablename__ = "staff_communities"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)


class FaqOverride(Base):
    """A community's own answer to a company FAQ topic (its fee, its hours): wins there."""

    __tablename__ = "faq_overrides"

    faq_id: Mapped[str] = mapped_column(ForeignKey("faq_entries.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    question: Mapped[str] = mapped_column(Text, default="")  # empty: the company wording
    similar_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")

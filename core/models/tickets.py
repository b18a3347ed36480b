"""Tickets and their history, the resident roster, room bindings and household bills."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class Ticket(Base):
    """One resident request (诉求) from intake to archive."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_openid_state", "openid", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    openid: Mapped[str | None] = mapped_column(String(64), default=None)
    # None only while an unbound resident has not said which community (an emergency).
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id"), default=None, index=True)
    # repair | complaint | suggestion | service_request | emergency
    type: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32), default="")
    department: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))  # P1|P2|P3
    state: Mapped[str] = mapped_column(String(16), default="new")
    room: Mapped[str] = mapped_column(String(32), default="")  # display form, e.g. 3栋2单元502
    room_key: Mapped[str] = mapped_column(String(32), default="")  # building-unit-room
    summary: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    photos: Mapped[list[Any]] = mapped_column(JSON, default=list)
    phone: Mapped[str] = mapped_column(String(32), default="")
    wants_callback: Mapped[bool] = mapped_column(default=False)
    callback_needed: Mapped[bool] = mapped_column(default=False)
    awaiting_rating: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None] = mapped_column(default=None)
    urge_count: Mapped[int] = mapped_column(default=0)
    paused: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    # The named worker a department head dispatched it to (service desk).
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("console_users.id"), default=None, index=True)
    # First answer by a person (accepted, or a resident-visible reply): the response SLA.
    first_responded_at: Mapped[datetime | None] = mapped_column(default=None)
    overdue: Mapped[bool] = mapped_column(default=False)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    response_due: Mapped[datetime | None] = mapped_column(default=None)
    resolve_due: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketEvent(Base):
    """Every change to a ticket: who, when, what and a note."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # state|urge|transfer|pause|rate|priority
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Household(Base):
    """A roster line: who lives where, as the property's records say."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "room_key", "phone",
                                       name="uq_households_room_phone"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    room_key: Mapped[str] = mapped_column(String(32), index=True)
    room: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))


class RoomBinding(Base):
    """A WeChat user linked to a home; several family members may bind one room."""

    __tablename__ = "room_bindings"
    __table_args__ = (UniqueConstraint("openid", "community_id", "room_key",
                                       name="uq_room_bindings_openid_room"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    room_key: Mapped[str] = mapped_column(String(32), index=True)
    room: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bill(Base):
    """One charge on a household's account for a period."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("community_id", "room_key", "period", "item",
                         name="uq_bills_room_period_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    room_key: Mapped[str] = mapped_column(String(32), index=True)
    room: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    paid: Mapped[bool] = mapped_column(default=False)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)

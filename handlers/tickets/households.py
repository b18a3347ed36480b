"""The roster, room bindings and bills: who may see which household's data.

Every roster line, bill and binding belongs to a community. Lookups made during a
turn look in the community the turn is served for (communities.context) first.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from communities import context
from communities.directory import Communities
from core.config import HandoffConfig, ServiceConfig
from core.db import transaction
from core.models import Bill, Household, RoomBinding
from handlers.tickets.rooms import Room, parse_room

_TRUE = {"1", "true", "yes", "y", "是", "已缴", "已交", "已付"}


class CsvImportError(ValueError):
    """A CSV line that cannot be imported; the message names the line."""


@dataclass(frozen=True)
class BillLine:
    room: str
    period: str
    item: str
    amount: Decimal
    paid: bool
    due_date: date | None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in
                csv.DictReader(handle)]


def _room(value: str, line: int) -> Room:
    room = parse_room(value)
    if room is None:
        raise CsvImportError(f"line {line}: cannot read room {value!r}")
    return room


def default_community_id(sessions: sessionmaker[Session]) -> int:
    """The first community (created from the built-in defaults on an empty install)."""
    return Communities(sessions).ensure_first(ServiceConfig(), HandoffConfig()).id


def import_roster(sessions: sessionmaker[Session], path: Path,
                  community_id: int | None = None) -> int:
    """room,name,phone lines of one community (default: the first); a re-import updates."""
    community_id = community_id or default_community_id(sessions)
    count = 0
    with transaction(sessions) as session:
        for line, row in enumerate(_rows(path), start=2):
            room = _room(row.get("room", ""), line)
            phone = "".join(ch for ch in row.get("phone", "") if ch.isdigit())
            if len(phone) < 7:
                raise CsvImportError(f"line {line}: phone is missing or too short")
            found = session.scalars(select(Household).where(
                Household.community_id == community_id, Household.room_key == room.key,
                Household.phone == phone)).first()
            if found is None:
                session.add(Household(community_id=community_id, room_key=room.key,
                                      room=room.display, name=row.get("name", ""),
                                      phone=phone))
            else:
                found.name = row.get("name", "")
            count += 1
    return count


def import_bills(sessions: sessionmaker[Session], path: Path,
                 community_id: int | None = None) -> int:
    """room,period,item,amount,paid,due_date lines of one community; a re-import updates."""
    community_id = community_id or default_community_id(sessions)
    count = 0
    with transaction(sessions) as session:
        for line, row in enumerate(_rows(path), start=2):
            room = _room(row.get("room", ""), line)
            try:
                amount = Decimal(row.get("amount", ""))
                due = date.fromisoformat(row["due_date"]) if row.get("due_date") else None
            except (InvalidOperation, ValueError):
                raise CsvImportError(f"line {line}: bad amount or due_date") from None
            bill = session.scalars(select(Bill).where(
                Bill.community_id == community_id, Bill.room_key == room.key,
                Bill.period == row.get("period", ""), Bill.item == row.get("item", ""))).first()
            if bill is None:
                bill = Bill(community_id=community_id, room_key=room.key, room=room.display,
                            period=row.get("period", ""), item=row.get("item", ""))
                session.add(bill)
            bill.amount, bill.due_date = amount, due
            bill.paid = row.get("paid", "").lower() in _TRUE
            count += 1
    return count


class Households:
    """Read and change bindings; checks phone digits against the roster."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def _roster(self, session: Session, room: Room) -> list[Household]:
        """Roster lines of the room: the turn's community's if it has any, else anywhere."""
        rows = session.scalars(select(Household).where(Household.room_key == room.key)
                               .order_by(Household.id)).all()
        here = [h for h in rows if h.community_id == context.current_id()]
        return here or list(rows)

    def on_roster(self, room: Room) -> bool:
        with self.sessions() as session:
            return bool(self._roster(session, room))

    def verify(self, room: Room, last4: str) -> int | None:
        """The roster line whose phone ends with these digits, if any."""
        with self.sessions() as session:
            for household in self._roster(session, room):
                if household.phone.endswith(last4):
                    return household.id
        return None

    def bind(self, openid: str, room: Room, household_id: int | None) -> None:
        """Link the home; it belongs to the verified roster line's community."""
        with transaction(self.sessions) as session:
            household = session.get(Household, household_id) if household_id else None
            community_id = (household.community_id if household else room.community_id
                            or context.current_id() or default_community_id(self.sessions))
            found = session.scalars(select(RoomBinding).where(
                RoomBinding.openid == openid, RoomBinding.community_id == community_id,
                RoomBinding.room_key == room.key)).first()
            if found is None:
                session.add(RoomBinding(openid=openid, community_id=community_id,
                                        room_key=room.key, room=room.display,
                                        household_id=household_id))

    def unbind(self, openid: str, room: Room) -> bool:
        query = delete(RoomBinding).where(RoomBinding.openid == openid,
                                          RoomBinding.room_key == room.key)
        if room.community_id is not None:
            query = query.where(RoomBinding.community_id == room.community_id)
        with transaction(self.sessions) as session:
            result = session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def rooms(self, openid: str) -> list[Room]:
        """Every bound home; those in the turn's community first."""
        with self.sessions() as session:
            rows = session.execute(select(RoomBinding.room_key, RoomBinding.community_id).where(
                RoomBinding.openid == openid).order_by(RoomBinding.id)).all()
        rooms = [Room(*key.split("-", 2), community_id=cid) for key, cid in rows]
        here = context.current_id()
        return sorted(rooms, key=lambda r: r.community_id != here)

    def phone(self, openid: str, room: Room) -> str:
        """The roster phone the binding was verified with (used as the default contact)."""
        query = select(RoomBinding).where(RoomBinding.openid == openid,
                                          RoomBinding.room_key == room.key)
        if room.community_id is not None:
            query = query.where(RoomBinding.community_id == room.community_id)
        with self.sessions() as session:
            binding = session.scalars(query).first()
            if binding is None or binding.household_id is None:
                return ""
            household = session.get(Household, binding.household_id)
            return household.phone if household else ""

    def bills(self, room: Room) -> list[BillLine]:
        """The home's bills, in its own community (a bound Room knows which)."""
        community_id = room.community_id or context.current_id()
        query = select(Bill).where(Bill.room_key == room.key)
        if community_id is not None:
            query = query.where(Bill.community_id == community_id)
        with self.sessions() as session:
            rows = session.scalars(query.order_by(Bill.period, Bill.item))
            return [BillLine(b.room, b.period, b.item, Decimal(b.amount), b.paid, b.due_date)
                    for b in rows]

"""The roster, room bindings and bills: who may see which household's data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

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


def import_roster(sessions: sessionmaker[Session], path: Path) -> int:
    """room,name,phone lines; re-importing the same line updates the name."""
    count = 0
    with transaction(sessions) as session:
        for line, row in enumerate(_rows(path), start=2):
            room = _room(row.get("room", ""), line)
            phone = "".join(ch for ch in row.get("phone", "") if ch.isdigit())
            if len(phone) < 7:
                raise CsvImportError(f"line {line}: phone is missing or too short")
            found = session.scalars(select(Household).where(
                Household.room_key == room.key, Household.phone == phone)).first()
            if found is None:
                session.add(Household(room_key=room.key, room=room.display,
                                      name=row.get("name", ""), phone=phone))
            else:
                found.name = row.get("name", "")
            count += 1
    return count


def import_bills(sessions: sessionmaker[Session], path: Path) -> int:
    """room,period,item,amount,paid,due_date lines; a re-import updates amounts and paid."""
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
                Bill.room_key == room.key, Bill.period == row.get("period", ""),
                Bill.item == row.get("item", ""))).first()
            if bill is None:
                bill = Bill(room_key=room.key, room=room.display, period=row.get("period", ""),
                            item=row.get("item", ""))
                session.add(bill)
            bill.amount, bill.due_date = amount, due
            bill.paid = row.get("paid", "").lower() in _TRUE
            count += 1
    return count


class Households:
    """Read and change bindings; checks phone digits against the roster."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def on_roster(self, room: Room) -> bool:
        with self.sessions() as session:
            return session.scalars(select(Household.id).where(
                Household.room_key == room.key)).first() is not None

    def verify(self, room: Room, last4: str) -> int | None:
        """The roster line whose phone ends with these digits, if any."""
        with self.sessions() as session:
            for household in session.scalars(select(Household).where(
                    Household.room_key == room.key)):
                if household.phone.endswith(last4):
                    return household.id
        return None

    def bind(self, openid: str, room: Room, household_id: int | None) -> None:
        with transaction(self.sessions) as session:
            found = session.scalars(select(RoomBinding).where(
                RoomBinding.openid == openid, RoomBinding.room_key == room.key)).first()
            if found is None:
                session.add(RoomBinding(openid=openid, room_key=room.key, room=room.display,
                                        household_id=household_id))

    def unbind(self, openid: str, room: Room) -> bool:
        with transaction(self.sessions) as session:
            result = session.execute(delete(RoomBinding).where(
                RoomBinding.openid == openid, RoomBinding.room_key == room.key))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def rooms(self, openid: str) -> list[Room]:
        with self.sessions() as session:
            keys = session.scalars(select(RoomBinding.room_key).where(
                RoomBinding.openid == openid).order_by(RoomBinding.id)).all()
        return [Room(*key.split("-", 2)) for key in keys]

    def phone(self, openid: str, room: Room) -> str:
        """The roster phone the binding was verified with (used as the default contact)."""
        with self.sessions() as session:
            binding = session.scalars(select(RoomBinding).where(
                RoomBinding.openid == openid, RoomBinding.room_key == room.key)).first()
            if binding is None or binding.household_id is None:
                return ""
            household = session.get(Household, binding.household_id)
            return household.phone if household else ""

    def bills(self, room: Room) -> list[BillLine]:
        with self.sessions() as session:
            rows = session.scalars(select(Bill).where(Bill.room_key == room.key)
                                   .order_by(Bill.period, Bill.item))
            return [BillLine(b.room, b.period, b.item, Decimal(b.amount), b.paid, b.due_date)
                    for b in rows]

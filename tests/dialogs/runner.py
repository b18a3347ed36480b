"""Plays a conversation written as data (tests/dialogs/*.yaml) through the signed webhook.

Each dialog is a list of turns: what the resident sends (say / voice / image / file /
miniprogram / click), what the console or staff do (agent / staff / agents_online),
and what the reply must (expect, expect_any) or must not (not) contain, or that the
bot says nothing (silent). After the turns: the resident's tickets (fields, notes,
count) and who owns the conversation (handover).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update

from bot.messages import MessageLog
from bot.replies import Reply
from core.db import transaction, utcnow
from core.models import Message, Ticket, TicketEvent
from core.models.console import ConsoleUser, HandoverRecord

DIALOG_DIR = Path(__file__).resolve().parent
WEEKDAY_MORNING = "2026-11-18T10:00:00+08:00"  # a Wednesday, within 9:00-18:00
AGENT_ID = 7
_media = itertools.count(1)


@dataclass(frozen=True)
class Dialog:
    name: str
    file: str
    turns: list[dict[str, Any]]
    clock: str = WEEKDAY_MORNING
    bound: bool = False
    silence: int = 180
    tickets: list[dict[str, Any]] = field(default_factory=list)
    ticket_count: int | None = None
    handover: str | None = "any"
    postgres: bool = False


def load_dialogs() -> list[Dialog]:
    dialogs = []
    for path in sorted(DIALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        defaults = data.get("defaults") or {}
        for raw in data["dialogs"]:
            merged = {**defaults, **raw}
            dialogs.append(Dialog(
                name=merged["name"], file=path.stem, turns=merged["turns"],
                clock=merged.get("clock", WEEKDAY_MORNING), bound=merged.get("bound", False),
                silence=merged.get("silence", 180), tickets=merged.get("tickets") or [],
                ticket_count=merged.get("ticket_count"),
                handover=merged.get("handover", "any"), postgres=merged.get("postgres", False)))
    names = [d.name for d in dialogs]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"dialog names must be unique: {sorted(duplicates)}"
    return dialogs


class Player:
    """One app (services + signed pusher); dialogs use their own openid each."""

    def __init__(self, services: Any, pusher: Any) -> None:
        self.services = services
        self.pusher = pusher

    def play(self, dialog: Dialog, openid: str) -> None:
        if dialog.bound:
            self.bind(openid)
        for index, turn in enumerate(dialog.turns, 1):
            where = f"{dialog.name} turn {index} {turn}"
            text = self.turn(openid, turn)
            if text is None:
                continue
            self.check_reply(text, turn, where)
        self.check_end(dialog, openid)

    # -- turns ---------------------------------------------------------------------
    def turn(self, openid: str, turn: dict[str, Any]) -> str | None:
        """Do one step; returns what the resident saw (None for a console/staff step)."""
        if "agent" in turn:
            self.agent(openid, turn["agent"])
            return None
        if "staff" in turn:
            self.staff(openid, turn["staff"])
            return None
        if "agents_online" in turn:
            self.agents_online(int(turn["agents_online"]))
            return None
        last = self.last_message_id()
        self.send(openid, turn)
        return self.replies_since(openid, last)

    def send(self, openid: str, turn: dict[str, Any]) -> None:
        pusher, msg_id = self.pusher, 900000 + next(_media)
        if "say" in turn:
            text = str(turn["say"])
            if "{last_ticket}" in text:  # the number of the resident's latest ticket
                text = text.replace("{last_ticket}", self.tickets_numbers(openid)[-1])
            result = pusher.text(openid, text, msg_id=msg_id)
        elif "voice" in turn:
            result = pusher.voice(openid, str(turn["voice"]), msg_id=msg_id)
        elif "image" in turn:
            result = pusher.image(openid, f"http://127.0.0.1/p{msg_id}.jpg", msg_id=msg_id)
        elif "click" in turn:
            result = pusher.event(openid, "CLICK", str(turn["click"]))
        elif "send" in turn:
            raw = dict(turn["send"])
            result = pusher.send(openid, str(raw.pop("type")), MsgId=msg_id, **raw)
        else:
            raise AssertionError(f"unknown turn {turn}")
        assert result.status_code == 200, f"{turn}: HTTP {result.status_code}"

    def agent(self, openid: str, what: str) -> None:
        handover = self.services.handover
        if what == "take_over":
            handover.take_over(openid, AGENT_ID)
        elif what == "close":
            handover.close(openid, AGENT_ID)
        elif what == "hand_back":
            handover.hand_back(openid, AGENT_ID)
        elif what == "reply":  # what the console's reply writes (admin/service.py)
            with transaction(self.services.sessions) as session:
                MessageLog.add_outbound(session, openid, Reply("text", "您好，我是客服专员，请讲"),
                                        "custom", "queued", sender="agent")
                handover.note_agent_reply(session, openid)
        else:
            raise AssertionError(f"unknown agent step {what}")

    def staff(self, openid: str, what: str) -> None:
        """resolve / close the resident's latest ticket, as staff in the console would."""
        tickets = self.services.deps.tickets
        latest = tickets.list_tickets(openid)[0]
        path = {"resolve": ["accepted", "in_progress", "resolved"],
                "close": ["accepted", "in_progress", "resolved", "closed"]}[what]
        for state in path:
            tickets.transition(latest.number, state, "staff:test", notify=False)

    def agents_online(self, count: int) -> None:
        with transaction(self.services.sessions) as session:
            session.execute(update(ConsoleUser).values(presence="offline"))
            for n in range(count):
                name = f"dialog_agent_{n}"
                user = session.scalars(select(ConsoleUser).where(
                    ConsoleUser.username == name)).first()
                if user is None:
                    session.add(ConsoleUser(username=name, password_hash="x",
                                            presence="online"))
                else:
                    user.presence = "online"

    # -- reading ---------------------------------------------------------------------
    def last_message_id(self) -> int:
        with self.services.sessions() as session:
            return session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0

    def replies_since(self, openid: str, last: int) -> str:
        with self.services.sessions() as session:
            rows = session.scalars(select(Message).where(
                Message.id > last, Message.openid == openid, Message.direction == "out")
                .order_by(Message.id)).all()
            return "\n".join(m.text for m in rows)

    @staticmethod
    def check_reply(text: str, turn: dict[str, Any], where: str) -> None:
        if turn.get("silent"):
            assert text == "", f"{where}: expected silence, got {text!r}"
            return
        assert text, f"{where}: no reply"
        for fragment in _list(turn.get("expect")):
            assert str(fragment) in text, f"{where}: {fragment!r} not in {text!r}"
        alternatives = _list(turn.get("expect_any"))
        assert not alternatives or any(str(a) in text for a in alternatives), \
            f"{where}: none of {alternatives!r} in {text!r}"
        for fragment in _list(turn.get("not")):
            assert str(fragment) not in text, f"{where}: {fragment!r} in {text!r}"

    def check_end(self, dialog: Dialog, openid: str) -> None:
        rows = self.tickets(openid)
        if dialog.ticket_count is not None:
            assert len(rows) == dialog.ticket_count, \
                f"{dialog.name}: {len(rows)} tickets: {[r['summary'] for r in rows]}"
        for expected in dialog.tickets:
            assert any(_ticket_matches(row, expected) for row in rows), \
                f"{dialog.name}: no ticket like {expected} in {rows}"
        if dialog.handover != "any":
            owner = self.services.states.load(openid).owner
            assert owner == (dialog.handover or "bot"), f"{dialog.name}: owner {owner}"

    def tickets_numbers(self, openid: str) -> list[str]:
        with self.services.sessions() as session:
            return list(session.scalars(select(Ticket.number).where(Ticket.openid == openid)
                                        .order_by(Ticket.id)))

    def tickets(self, openid: str) -> list[dict[str, Any]]:
        with self.services.sessions() as session:
            rows = []
            for t in session.scalars(select(Ticket).where(Ticket.openid == openid)
                                     .order_by(Ticket.id)):
                notes = [e.note for e in session.scalars(
                    select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
                rows.append({"type": t.type, "priority": t.priority, "department": t.department,
                             "category": t.category, "state": t.state, "room": t.room,
                             "summary": t.summary, "phone": t.phone,
                             "location": (t.fields or {}).get("location") or "",
                             "fields": t.fields or {}, "photos": len(t.photos or []),
                             "urge_count": t.urge_count, "notes": "\n".join(notes),
                             "wants_callback": t.wants_callback})
            return rows

    def bind(self, openid: str) -> None:
        from handlers.tickets.households import Households
        from handlers.tickets.rooms import parse_room

        homes = Households(self.services.sessions)
        room = parse_room("3栋2单元502")
        assert room is not None
        homes.bind(openid, room, homes.verify(room, "8000"))

    def finish(self) -> None:
        """End every open handover and sign agents out: the next dialog starts clean."""
        with transaction(self.services.sessions) as session:
            session.execute(update(HandoverRecord).where(HandoverRecord.ended_at.is_(None))
                            .values(outcome="test", ended_at=utcnow()))
            session.execute(update(ConsoleUser).values(presence="offline"))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _ticket_matches(row: dict[str, Any], expected: dict[str, Any]) -> bool:
    for key, want in expected.items():
        if key.endswith("_contains"):
            got = row["fields"] if key == "fields_contains" else row[key.removesuffix("_contains")]
            values = _list(want)
            if key == "fields_contains":
                if any(str(got.get(k)) != str(v) for item in values for k, v in item.items()):
                    return False
            elif any(str(v) not in str(got) for v in values):
                return False
        elif key == "not_notes":
            if any(str(v) in row["notes"] for v in _list(want)):
                return False
        elif str(row.get(key)) != str(want):
            return False
    return True

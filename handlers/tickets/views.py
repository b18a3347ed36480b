"""Plain snapshots of tickets for replies, the CLI, `wuye inspect` and the console."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.models import Ticket
from handlers.tickets.rooms import mask_phones
from nlu.tokenizer import tokens

# fields that say what a ticket is about, most telling first
WHAT_FIELDS = ("problem", "details", "content", "service")
BRIEF_CHARS = 16
_BREAKS = re.compile(r"[\s,，.。!！?？;；、：:]")


@dataclass(frozen=True)
class TicketView:
    number: str
    openid: str | None
    type: str
    category: str
    department: str
    priority: str
    state: str
    room: str
    summary: str
    phone: str
    response_due: datetime | None
    resolve_due: datetime | None
    created_at: datetime
    awaiting_rating: bool
    rating: int | None
    urge_count: int
    callback_needed: bool
    fields: dict[str, Any]
    community_id: int | None = None
    assignee_id: int | None = None
    overdue_flag: bool = False
    paused: bool = False
    first_responded_at: datetime | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        return cls(
            number=ticket.number, openid=ticket.openid, type=ticket.type,
            category=ticket.category, department=ticket.department, priority=ticket.priority,
            state=ticket.state, room=ticket.room, summary=ticket.summary, phone=ticket.phone,
            response_due=ticket.response_due, resolve_due=ticket.resolve_due,
            created_at=ticket.created_at, awaiting_rating=ticket.awaiting_rating,
            rating=ticket.rating, urge_count=ticket.urge_count,
            callback_needed=ticket.callback_needed, fields=dict(ticket.fields or {}),
            community_id=ticket.community_id, assignee_id=ticket.assignee_id,
            overdue_flag=bool(ticket.overdue), paused=bool(ticket.paused),
            first_responded_at=ticket.first_responded_at,
        )

    @property
    def deadline(self) -> datetime | None:
        """The next promise: first response while untouched, then completion."""
        if self.state in ("new", "dispatched") or self.resolve_due is None:
            return self.response_due
        return self.resolve_due

    @property
    def deadline_kind(self) -> str:
        """Which promise `deadline` is: 响应 (first response) or 完成 (done)."""
        return "响应" if self.state in ("new", "dispatched") or self.resolve_due is None \
            else "完成"

    @property
    def what(self) -> str:
        """What the ticket is about in the resident's words (not the location: summary)."""
        return next((str(self.fields[k]) for k in WHAT_FIELDS if self.fields.get(k)),
                    self.summary)

    def overdue(self, now: datetime) -> bool:
        deadline = self.deadline
        return deadline is not None and now > deadline and self.state not in (
            "resolved", "closed", "cancelled")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the phone stays out (privacy), deadlines are ISO strings."""
        data = asdict(self)
        data.pop("phone")
        for key in ("response_due", "resolve_due", "created_at", "first_responded_at"):
            data[key] = data[key].isoformat() if data[key] else None
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        return data


def local_time(moment: datetime | None, timezone: str) -> str:
    """11月23日 15:30 in the property's time zone, as residents read it."""
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def brief(text: str, limit: int = BRIEF_CHARS) -> str:
    """Short enough for one line in a list: cut at a pause or between words, with …;
    phones masked, so a number typed into free text is never shown whole."""
    text = " ".join(mask_phones(text).split())
    if len(text) <= limit:
        return text
    most = limit - 1
    pauses = [m.start() for m in _BREAKS.finditer(text[:most + 1]) if m.start() >= most // 2]
    return text[:pauses[-1] if pauses else _word_end(text, most)].rstrip() + "…"


def _word_end(text: str, most: int) -> int:
    """The last word boundary within `most` characters, so no word is cut in two."""
    pos = end = 0
    for word in tokens(text):
        start = text.find(word, pos)
        if start < 0 or start + len(word) > most:
            break
        pos = end = start + len(word)
    return end if end >= most // 2 else most


def duration_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}分钟"
    return f"{minutes // 60}小时"

"""Tickets from the console: create one from the conversation, or move one along its states.

The ticket rules, numbering and notices to the resident all live in
handlers/tickets/service.py; this only turns console input into its calls.
"""

from __future__ import annotations

from typing import Any

from admin.errors import ConsoleError
from admin.users import User

TICKET_TYPES = ("repair", "complaint", "suggestion", "service_request")
MAX_SUMMARY_CHARS = 200


def create_ticket(services: Any, openid: str, user: User, data: dict[str, Any]) -> dict[str, Any]:
    from handlers.tickets.rooms import parse_phone, parse_room
    from handlers.tickets.service import NewTicket

    kind = str(data.get("type") or "")
    text = str(data.get("text") or "").strip()
    summary = str(data.get("summary") or text).strip()[:MAX_SUMMARY_CHARS]
    if kind not in TICKET_TYPES or not text:
        raise ConsoleError("ticket_error", "请选择工单类型并填写问题描述")
    room = parse_room(str(data.get("room") or "")) if data.get("room") else None
    phone = parse_phone(str(data.get("phone") or "")) or ""
    view = services.deps.tickets.create(NewTicket(
        type=kind, openid=openid, text=text, summary=summary, room=room, phone=phone,
        actor=f"agent:{user.username}"))
    return {"number": view.number, "state": view.state, "department": view.department,
            "priority": view.priority}


def update_ticket(services: Any, number: str, user: User, data: dict[str, Any]) -> dict[str, Any]:
    from handlers.tickets.rules import TransitionError
    from handlers.tickets.service import TicketNotFoundError

    state = str(data.get("state") or "")
    note = str(data.get("note") or "").strip()[:500]
    tell = str(data.get("tell") or "").strip()[:500]
    try:
        view = services.deps.tickets.transition(number, state, f"agent:{user.username}", note,
                                                tell=tell)
    except TicketNotFoundError:
        raise ConsoleError("ticket_error", f"找不到工单 {number}") from None
    except TransitionError as exc:
        raise ConsoleError("ticket_error", str(exc)) from None
    return {"number": view.number, "state": view.state}

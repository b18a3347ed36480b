"""Tickets from the console: create one from the conversation, or move one along its states.

The ticket rules, numbering and notices to the resident all live in
handlers/tickets/service.py; this only turns console input into its calls.
"""

from __future__ import annotations

from typing import Any

from admin.errors import ConsoleError, ForbiddenError
from admin.users import User
from communities.staff import Scope, allows

TICKET_TYPES = ("repair", "complaint", "suggestion", "service_request")
MAX_SUMMARY_CHARS = 200
MAX_LISTED = 200


def list_tickets(services: Any, scope: Scope, states: list[str] | None = None,
                 ) -> list[dict[str, Any]]:
    """The tickets a user may see: their communities' only when they are scoped."""
    views = services.deps.tickets.list_tickets(states=states or None, communities=scope)
    return [view.to_dict() for view in views[:MAX_LISTED]]


def check_ticket_scope(services: Any, number: str, scope: Scope) -> None:
    from handlers.tickets.service import TicketNotFoundError

    if scope is None:
        return
    try:
        view = services.deps.tickets.get(number)
    except TicketNotFoundError:
        raise ConsoleError("ticket_error", f"找不到工单 {number}") from None
    if not allows(scope, view.community_id):
        raise ForbiddenError("out_of_scope")


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
    from communities.residents import ResidentCommunities

    community = ResidentCommunities(services.sessions).resolve(openid)
    view = services.deps.tickets.create(NewTicket(
        type=kind, openid=openid, text=text, summary=summary, room=room, phone=phone,
        actor=f"agent:{user.username}", community_id=community.id if community else None))
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

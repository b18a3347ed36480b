"""`wuye inspect`: what the system knows about one resident, for staff and tests."""

from __future__ import annotations

from typing import Any

from handlers.tickets.inspect import bound_rooms, tickets_for
from wuye.services import Services

LAST_MESSAGES = 20


def inspect_resident(services: Services, openid: str) -> dict[str, Any]:
    state = services.states.load(openid)
    return {
        "openid": openid,
        "handover": state.handover,
        "bound_rooms": bound_rooms(services.sessions, openid),
        "tickets": tickets_for(services.sessions, openid),
        "last_messages": [
            {
                "id": m.id,
                "direction": m.direction,
                "type": m.msg_type,
                "text": m.text,
                "sender": m.sender,
                "delivery": m.delivery,
                "status": m.status,
                "needs_agent": m.needs_agent,
                "nlu": m.nlu,
                "created_at": m.created_at.isoformat(),
            }
            for m in services.messages.recent(openid, LAST_MESSAGES)
        ],
    }

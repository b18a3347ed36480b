"""进度查询: the resident's open tickets, or the one whose number was typed."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.db import utcnow
from handlers.base import BaseAction, route_args
from handlers.tickets.views import brief, local_time

MAX_LISTED = 5


class TicketStatusAction(BaseAction):
    """Lists open tickets; an overdue one asked about again is urged and raised."""

    action_name = "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        service = self.deps.tickets
        now = utcnow()
        number = route_args(tracker).get("number")
        tickets = service.list_tickets(tracker.sender_id,
                                       None if number else service.life.open_states)
        if number:
            tickets = [t for t in tickets if t.number == number]
        if not tickets:
            self.say(dispatcher, "status_unknown" if number else "status_none",
                     number=number or "")
            return []
        lines = [self.deps.texts("status_intro", count=len(tickets))]
        urged = []
        for view in tickets[:MAX_LISTED]:
            if view.overdue(now):
                view = service.urge(view.number, f"resident:{tracker.sender_id}",
                                    "业主查询进度时已超时", now)
                urged.append(view.number)
            lines.append(self.deps.texts(
                "status_line", number=view.number, type_name=service.life.type_name(view.type),
                state_name=service.life.state_name(view.state), department=view.department,
                deadline=local_time(view.deadline, self.deps.config.service.timezone),
                deadline_kind=view.deadline_kind, what=brief(view.what)))
        if urged:
            lines.append(self.deps.texts("status_urged", numbers="、".join(urged)))
        if any(v.state == "resolved" for v in tickets):
            lines.append(self.deps.texts("status_rate_hint"))
        lines.append(self.deps.texts("status_outro"))
        dispatcher.utter_message(text="\n".join(lines))
        return []

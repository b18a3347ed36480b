"""进度查询 and the resident's rating of a resolved ticket."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core.db import utcnow
from handlers.base import BaseAction
from handlers.tickets.answers import parse_rating
from handlers.tickets.extract import text_of
from handlers.tickets.views import brief, local_time

MAX_LISTED = 5


class TicketStatusAction(BaseAction):
    """Lists open tickets; an overdue one asked about again is urged and raised."""

    action_name = "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        service = self.deps.tickets
        now = utcnow()
        tickets = service.list_tickets(tracker.sender_id, service.life.open_states)
        if not tickets:
            self.say(dispatcher, "status_none")
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


class TicketRatingAction(BaseAction):
    """The next rating-like message after a ticket is resolved rates that ticket."""

    action_name = "action_ticket_rating"

    def claims(self, openid: str, text: str) -> bool:
        """Whether this message answers a pending rating (checked before intent routing)."""
        return parse_rating(text) is not None and \
            self.deps.tickets.awaiting_rating(openid) is not None

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        service = self.deps.tickets
        pending = service.awaiting_rating(tracker.sender_id)
        score = parse_rating(text_of(tracker.latest_message or {}))
        if pending is None or score is None:
            self.say(dispatcher, "ticket_rating_nothing")
            return []
        view = service.rate(pending.number, score, f"resident:{tracker.sender_id}")
        if view.state == "reopened":
            self.say(dispatcher, "ticket_rating_reopened", number=view.number)
            return [SlotSet("flag_for_agent", True)]
        self.say(dispatcher, "ticket_rating_closed", number=view.number)
        return []

"""About a ticket the resident already has: 催单 (urge) and 不满意 (reopen with the reason)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from core.db import utcnow
from handlers.base import BaseAction, decision_of, route_args
from handlers.intents import action_for
from handlers.outcomes import FlagForAgent, NotifyStaff
from handlers.ratings import read_rating
from handlers.tickets.extract import text_of
from handlers.tickets.rules import TransitionError
from handlers.tickets.service import TicketNotFoundError
from handlers.tickets.views import TicketView, duration_text, local_time

URGEABLE = ("new", "dispatched", "accepted", "in_progress", "reopened")
REOPEN_WITHIN = timedelta(days=60)  # counted from creation


def _pick(action: BaseAction, tracker: Tracker, states: tuple[str, ...]) -> TicketView | None:
    """The ticket named in the message (if it is the resident's), else the latest in states."""
    service = action.deps.tickets
    number = route_args(tracker).get("number")
    mine = service.list_tickets(tracker.sender_id)
    if number:
        return next((t for t in mine if t.number == number), None)
    return next((t for t in mine if t.state in states), None)


class UrgeAction(BaseAction):
    """催单: record the urge, tell the department at once, tell the resident what comes next."""

    action_name = "action_urge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        view = _pick(self, tracker, URGEABLE)
        text = text_of(tracker.latest_message or {})
        number = route_args(tracker).get("number")
        if view is None and not number and "催" not in text:
            # 快递什么时候来: no ticket to hurry, so the words meant something else
            decision = decision_of(tracker)
            return [FollowupAction(action_for(decision.intent if decision else "faq"))]
        if view is None:
            self.say(dispatcher, "urge_unknown" if number else "urge_nothing",
                     number=number or "")
            return []
        if view.state not in URGEABLE:
            self.say(dispatcher, "urge_not_open", number=view.number,
                     state_name=self.deps.tickets.life.state_name(view.state))
            return []
        note = "业主催单：" + text[:200]
        view = self.deps.tickets.urge(view.number, f"resident:{tracker.sender_id}", note)
        minutes = self.deps.tickets.rules.response_minutes(view.type, view.priority)
        self.say(dispatcher, "urge_done", number=view.number, department=view.department,
                 count=view.urge_count, response=duration_text(min(minutes, 120)),
                 deadline=local_time(view.deadline, self.deps.config.service.timezone))
        return [NotifyStaff("ticket_urged", {"number": view.number,
                                             "department": view.department,
                                             "urge_count": view.urge_count,
                                             "priority": view.priority})]


class ReopenAction(BaseAction):
    """不满意，楼下还在滴水: the finished ticket is reopened with the reason as a note."""

    action_name = "action_reopen"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        text = text_of(tracker.latest_message or {})
        view = _pick(self, tracker, ("resolved", "closed"))
        if view is None or not self.recent(view):
            open_view = _pick(self, tracker, URGEABLE)
            if open_view is not None:  # still being worked on: an urge with the words
                return [FollowupAction("action_urge")]
            decision = decision_of(tracker)
            intent = decision.intent if decision else "repair"
            target = action_for(intent if intent == "complaint" else "repair")
            return [FollowupAction(target)]  # nothing of ours to reopen: a new report
        rating = read_rating(text)
        reason = (rating.reason if rating and rating.reason else text).strip()
        actor = f"resident:{tracker.sender_id}"
        try:
            if view.state == "resolved":
                view = self.deps.tickets.rate(view.number, rating.score if rating else 1, actor)
            else:
                view = self.deps.tickets.transition(view.number, "reopened", actor,
                                                    "业主不满意，重新处理", notify=False)
        except (TransitionError, TicketNotFoundError):
            self.say(dispatcher, "reopen_failed", number=view.number)
            return [FlagForAgent("reopen failed")]
        self.deps.tickets.add_note(view.number, actor, "业主反馈：" + reason)
        self.say(dispatcher, "reopen_done", number=view.number, department=view.department,
                 reason=reason)
        return [FlagForAgent("ticket reopened"),
                NotifyStaff("ticket_reopened", {"number": view.number,
                                                "department": view.department,
                                                "reason": reason})]

    @staticmethod
    def recent(view: TicketView) -> bool:
        created = view.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return utcnow() - created <= REOPEN_WITHIN

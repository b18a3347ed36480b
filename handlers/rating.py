"""The resident's rating of a person's help (asked on closing) or of a resolved ticket.

One parser (handlers/ratings.py) for both; which one is answered the routing
table passes in (`conversation_rating` id or `ticket` number).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from core.db import transaction, utcnow
from core.models.console import ConversationRating
from desk import callbacks
from handlers.base import BaseAction, route_args
from handlers.outcomes import FlagForAgent, NotifyStaff
from handlers.ratings import SATISFIED_MIN_SCORE, Rating, read_rating
from handlers.tickets.extract import text_of


class RatingAction(BaseAction):
    action_name = "action_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        text = text_of(tracker.latest_message or {})
        rating = read_rating(text)
        args = route_args(tracker)
        if rating is None:
            self.say(dispatcher, "ticket_rating_nothing")
            return []
        if args.get("conversation_rating"):
            return self.rate_conversation(dispatcher, tracker.sender_id,
                                          int(args["conversation_rating"]), rating, text)
        if args.get("ticket"):
            return self.rate_ticket(dispatcher, tracker, str(args["ticket"]), rating)
        self.say(dispatcher, "ticket_rating_nothing")
        return []

    def rate_conversation(self, dispatcher: CollectingDispatcher, openid: str, rating_id: int,
                          rating: Rating, text: str) -> list[Any]:
        with transaction(self.deps.sessions) as session:
            row = session.get(ConversationRating, rating_id)
            if row is not None and row.score is None:
                row.score, row.answer, row.rated_at = rating.score, text[:200], utcnow()
        if rating.score >= SATISFIED_MIN_SCORE:
            self.say(dispatcher, "rating_thanks")
            return []
        self.say(dispatcher, "rating_thanks_unhappy")
        # The reply promises a supervisor will follow up: it goes on the callback list.
        callbacks.add(self.deps.sessions, f"rating:{rating_id}", "rating",
                      openid, f"人工服务评价{rating.score}分（{text[:30]}），需回访",
                      self.deps.config.desk, community_id=context.current_id())
        return [FlagForAgent("unhappy rating")]

    def rate_ticket(self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str,
                    rating: Rating) -> list[Any]:
        service = self.deps.tickets
        actor = f"resident:{tracker.sender_id}"
        view = service.rate(number, rating.score, actor, rating.reason)
        if view.state != "reopened":
            self.say(dispatcher, "ticket_rating_closed", number=view.number)
            return []
        if rating.reason:
            service.add_note(view.number, actor, "业主反馈：" + rating.reason)
        self.say(dispatcher, "ticket_rating_reopened", number=view.number)
        return [FlagForAgent("ticket reopened"),
                NotifyStaff("ticket_reopened", {"number": view.number,
                                                "department": view.department,
                                                "reason": rating.reason})]

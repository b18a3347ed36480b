"""An angry resident: apologise, record the complaint as a ticket, and bring in a person.

The complaint is recorded at once from the resident's own words (with the open
form's description, if one is being filled), so a person calls back about it
even if the resident writes nothing more. An open form stays open.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.human import waiting_text
from handlers.outcomes import HandOver, NotifyStaff
from handlers.tickets.extract import text_of, without_phones
from handlers.tickets.households import Households
from handlers.tickets.service import NewTicket

DESCRIBING_SLOTS = ("problem", "details", "content", "service")


class AngerAction(BaseAction):
    action_name = "action_anger"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        text = without_phones(text_of(tracker.latest_message or {}))
        context = next((str(tracker.get_slot(s)) for s in DESCRIBING_SLOTS
                        if tracker.get_slot(s)), "")
        details = f"{context}；{text}" if context and context not in text else text
        homes = Households(self.deps.sessions)
        rooms = homes.rooms(tracker.sender_id)
        room = rooms[0] if rooms else None
        view = self.deps.tickets.create(NewTicket(
            type="complaint", openid=tracker.sender_id, text=details, summary=details[:200],
            room=room, phone=homes.phone(tracker.sender_id, room) if room else "",
            fields={"details": details, "callback": True, "angry": True},
            wants_callback=True))
        prefix = self.deps.texts.raw("handoff_prefixes")["anger"]
        dispatcher.utter_message(text=prefix + self.deps.texts(
            "anger_recorded", number=view.number) + waiting_text(self, tracker.sender_id))
        return [HandOver("anger"),
                NotifyStaff("complaint", {"number": view.number, "department": view.department,
                                          "angry": True})]

"""Emergencies: a P1 ticket at once, the 24-hour number and what to do now, and a person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.tickets.extract import find_phone, find_room, text_of, without_phones
from handlers.tickets.households import Households
from handlers.tickets.loop import clear_form
from handlers.tickets.service import NewTicket

REPEAT_WINDOW = timedelta(minutes=30)


class EmergencyAction(BaseAction):
    """Never waits for a form: any open form is dropped so nothing stands in the way."""

    action_name = "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        text = without_phones(text_of(latest))  # a phone goes to the ticket's phone only
        homes = Households(self.deps.sessions)
        bound = homes.rooms(tracker.sender_id)
        room = find_room(latest) or (bound[0] if bound else None)
        phone = find_phone(latest) or (homes.phone(tracker.sender_id, room) if room else "")
        service = self.deps.tickets
        view = service.recent_open(tracker.sender_id, "emergency", REPEAT_WINDOW)
        if view is not None:  # the same emergency told again: one ticket, with the new words
            service.add_note(view.number, f"resident:{tracker.sender_id}", "再次求助：" + text)
        else:
            view = service.create(NewTicket(
                type="emergency", openid=tracker.sender_id, text=text, summary=text[:200],
                room=room, phone=phone, fields={"message": text}))
        advice = self.deps.texts.raw("emergency_advice")
        self.say(dispatcher, "emergency_reply", number=view.number,
                 advice=advice.get(view.category, advice["default"]))
        events = clear_form() if tracker.active_loop else []
        return events + [SlotSet("flag_for_agent", True), SlotSet("handover", "emergency")]

"""Emergencies: a P1 ticket at once, what to do now, the 24-hour number, then where.

Each danger is its own: a gas smell after a lift entrapment gets gas advice and
its own ticket; the same danger told again within REPEAT_WINDOW adds a note to
the open one. When the message says no place, the bot asks where after the
advice, and the answer is put on the ticket (EmergencyWhereAction).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction, route_args
from handlers.outcomes import HandOver
from handlers.tickets.extract import find_phone, find_room, find_word, text_of, without_phones
from handlers.tickets.forms import words
from handlers.tickets.households import Households
from handlers.tickets.places import find_building_text, find_place_text, is_specific
from handlers.tickets.rooms import Room
from handlers.tickets.service import NewTicket
from handlers.tickets.views import TicketView

REPEAT_WINDOW = timedelta(minutes=30)
HOME_WORDS = ("家里", "家中", "我家", "在家", "屋里", "室内", "我们家", "自己家", "就是家里", "家")


class EmergencyAction(BaseAction):
    """Never waits for a form: an open form stays as it was, the danger comes first."""

    action_name = "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        latest = tracker.latest_message or {}
        text = without_phones(text_of(latest))  # a phone goes to the ticket's phone only
        service = self.deps.tickets
        category = service.rules.classify("emergency", text).category
        recent = service.open_of_type(tracker.sender_id, "emergency", REPEAT_WINDOW)
        unnamed = category == service.rules.data["defaults"]["emergency"]["category"]
        # the same danger again, or a cry for help that names no danger after one
        same = [v for v in recent if v.category == category or unnamed]
        room, place = self.where(tracker, text)
        if same:  # the same danger told again: one ticket, with the new words
            view = same[0]
            service.add_note(view.number, f"resident:{tracker.sender_id}", "再次求助：" + text)
            if (room or place) and not self.located(view):
                view = service.set_location(view.number, "system", room, place)
        else:
            view = service.create(NewTicket(
                type="emergency", openid=tracker.sender_id, text=text, summary=text[:200],
                room=room, phone=find_phone(latest) or self.home_phone(tracker, room),
                fields={"message": text, "location": place or self.vague_place(text),
                        "location_kind": "common" if place else ("home" if room else "")}))
        advice = self.deps.texts.raw("emergency_advice")
        text = self.deps.texts("emergency_reply", number=view.number,
                               advice=advice.get(view.category, advice["default"]))
        events: list[Any] = [HandOver("emergency")]
        if not self.located(view):
            text += "\n" + self.where_question(tracker)
            events.append(SlotSet("emergency_where", view.number))
        dispatcher.utter_message(text=text)  # one message: WeChat shows the first at once
        return events

    def where(self, tracker: Tracker, text: str) -> tuple[Room | None, str]:
        """A home or a place specific enough to send someone to (电梯 alone is not);
        家里 is the resident's bound home."""
        room = find_room(tracker.latest_message or {})
        place = find_place_text(text) or ""
        if room is None and not place and find_word(text, list(HOME_WORDS)):
            bound = Households(self.deps.sessions).rooms(tracker.sender_id)
            room = bound[0] if bound else None
        return room, place if is_specific(place) else ""

    @staticmethod
    def located(view: TicketView) -> bool:
        return bool(view.room) or is_specific(str(view.fields.get("location") or ""))

    @staticmethod
    def vague_place(text: str) -> str:
        """电梯 without which one: kept, the question where still follows."""
        return find_place_text(text) or ""

    def home_phone(self, tracker: Tracker, room: Room | None) -> str:
        return Households(self.deps.sessions).phone(tracker.sender_id, room) if room else ""

    def where_question(self, tracker: Tracker) -> str:
        rooms = Households(self.deps.sessions).rooms(tracker.sender_id)
        if rooms:
            return self.deps.texts("emergency_ask_where_bound", room=rooms[0].display)
        return self.deps.texts("emergency_ask_where")


class EmergencyWhereAction(BaseAction):
    """The answer to "where is it?" after an emergency: put on that ticket."""

    action_name = "action_emergency_where"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        number = str(tracker.get_slot("emergency_where"))
        latest = tracker.latest_message or {}
        text = text_of(latest)
        if route_args(tracker).get("remind"):
            self.say(dispatcher, "emergency_where_remind", number=number)
            return []
        if self.another_danger(number, text):
            return [FollowupAction(EmergencyAction.action_name)]
        room, place = find_room(latest), find_place_text(text) or ""
        if room is None and not is_specific(place) and find_building_text(text):
            place = text.strip(" ，,。.")[:40]  # 10栋2单元，停在7楼和8楼之间
        if room is None and not place and find_word(text, list(HOME_WORDS)):
            bound = Households(self.deps.sessions).rooms(tracker.sender_id)
            room = bound[0] if bound else None
            place = "" if room else "家中"
        if room is None and not place:
            place = find_word(text, words("home")) and "家中" or text.strip()[:40]
        view: TicketView = self.deps.tickets.set_location(
            number, f"resident:{tracker.sender_id}", room, place)
        where = " ".join(x for x in (view.room, place) if x)
        self.say(dispatcher, "emergency_where_noted", number=view.number, where=where)
        return [SlotSet("emergency_where", None)]


    def another_danger(self, number: str, text: str) -> bool:
        """5栋楼道里有煤气味 after a lift entrapment: a new emergency, not its place."""
        service = self.deps.tickets
        category = service.rules.classify("emergency", text).category
        unnamed = service.rules.data["defaults"]["emergency"]["category"]
        return category != unnamed and category != service.get(number).category


def answers_where(text: str, latest: dict[str, Any]) -> bool:
    """Does this message say where (a room, a common area, a building, 家里)?"""
    return bool(find_room(latest) or find_place_text(text) or find_building_text(text)
                or find_word(text, list(HOME_WORDS)) or find_word(text, words("home")))

"""rasa-sdk FormValidationActions: extract each slot from the message, then validate it.

Free text (what is wrong, the details) is taken from the first message or when it
is the question asked; marked values (a home, a phone, a time) are taken whenever
they appear, so "不对，是3栋2单元503" corrects the room at any point.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from handlers.deps import HandlerDeps
from handlers.human import ServiceHours
from handlers.tickets import answers
from handlers.tickets.extract import (
    description,
    find_phone,
    find_place,
    find_room,
    find_word,
    strip_correction,
    substantive,
    text_of,
)
from handlers.tickets.forms import FormSpec, form_specs, services, words
from handlers.tickets.households import Households
from handlers.tickets.places import find_place_text
from handlers.tickets.reask import bare_request, same_request
from handlers.tickets.rooms import parse_phone, parse_room
from handlers.tickets.rules import DispatchRules
from handlers.tickets.when import read_when

Slots = dict[str, Any]
MAX_TEXT = 500
# slots holding a time: while one is still asked, a time in free text belongs there
TIME_SLOTS = ("visit_time", "when")
_DIGITS = re.compile(r"\d{5,}")
# Answers to "where is it?" that mean the resident's own home.
HOME_ANSWERS = ("家里", "家中", "我家", "在家", "屋里", "室内", "自己家", "户内")


def home_word(text: str) -> str | None:
    """The most telling home word: 卧室 rather than 家里 in 家里卧室."""
    found = [w for w in words("home") if w in text]
    specific = [w for w in found if w not in HOME_ANSWERS]
    return (specific or found or [None])[0]


class TicketFormValidation(FormValidationAction):
    """Shared readers; subclasses name the form and add their own slots."""

    form = ""

    def __init__(self, deps: HandlerDeps) -> None:
        self.deps = deps

    def name(self) -> str:
        return f"validate_{self.form}"

    @property
    def spec(self) -> FormSpec:
        return form_specs()[self.form]

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        return self.spec.required(tracker.slots)

    # -- helpers --------------------------------------------------------------
    @staticmethod
    def asked(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    @staticmethod
    def first_turn(tracker: Tracker) -> bool:
        return tracker.get_slot("requested_slot") is None

    def answer(self, tracker: Tracker, slot: str) -> str | None:
        """The reply to our question as free text, minus homes, phones and a leading 不对，是.

        A yes/no word is no free-text answer, nor is the form's own request again
        (厨房又漏水了 asked for a visiting time), except for the slot that describes it.
        """
        if not self.asked(tracker, slot):
            return None
        text = strip_correction(text_of(tracker.latest_message))
        if answers.is_closed(text) or answers.is_yes(text) or answers.is_cancel(text) or \
                (slot != self.spec.describe and self.repeats(tracker)):
            return None
        cleaned = self.describe(tracker, text)
        return cleaned if substantive(cleaned, 2) else None

    def free_text(self, tracker: Tracker, slot: str) -> Slots:
        text = text_of(tracker.latest_message)
        if bare_request(self.spec, text):
            return {}  # 我要提建议: the request, not its content
        if (reply := self.answer(tracker, slot)) is not None:
            return {slot: reply}
        if self.first_turn(tracker):
            cleaned = self.describe(tracker, text)
            if substantive(cleaned):
                return {slot: cleaned}
        return {}

    def describe(self, tracker: Tracker, text: str) -> str:
        """The text without filler and what other slots take (a time only while one is asked)."""
        times = any(slot in TIME_SLOTS for slot in self.spec.required(tracker.slots))
        return description(text, words("filler"), times=times, tail=words("filler_tail"))

    def repeats(self, tracker: Tracker) -> bool:
        """The message is the form's own request again, not an answer."""
        return same_request(self.spec, tracker, self.deps.config.nlu.confidence_threshold)

    def validate_text(self, slot: str, value: Any) -> Slots:
        return {slot: str(value).strip()[:MAX_TEXT] or None}

    def say(self, dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
        dispatcher.utter_message(text=self.deps.texts(key, **values))

    # -- phone and time: any form that asks them ---------------------------------
    def extract_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> Slots:
        phone = find_phone(tracker.latest_message)
        if phone:
            return {"phone": phone}
        text = text_of(tracker.latest_message)
        # digits that are no phone number: let validate_phone say what is wrong
        return {"phone": text} if self.asked(tracker, "phone") and _DIGITS.search(text) else {}

    def validate_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: dict[str, Any]) -> Slots:
        phone = parse_phone(str(value or ""))
        if phone is None:
            self.say(dispatcher, "phone_not_understood")
        return {"phone": phone}

    def read_time(self, tracker: Tracker, slot: str) -> Slots:
        """A time resolved to a date (明天下午 → 11月19日（周四）下午); words that are no
        time (就是我家) are refused with a hint instead of being stored."""
        text = strip_correction(text_of(tracker.latest_message))
        found = read_when(text, ServiceHours(self.deps.config).now().date())
        asked = self.asked(tracker, slot)
        if found is not None and (asked or self.first_turn(tracker) or not found.anytime):
            return {slot: found.display()}
        if asked and not self.repeats(tracker) and substantive(text, 1) and \
                not answers.is_closed(text) and not find_phone(tracker.latest_message):
            return {slot: ""}  # validate_<slot> says what is expected
        return {}

    def validate_time(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Slots:
        if not value:
            self.say(dispatcher, "time_not_understood")
            return {slot: None}
        return {slot: str(value)}

    # -- room: any form -------------------------------------------------------
    def extract_room(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: dict[str, Any]) -> Slots:
        room = find_room(tracker.latest_message)
        if room:
            return {"room": room.display}
        text = text_of(tracker.latest_message)
        if self.asked(tracker, "room") and "room" in self.spec.optional and answers.is_skip(text):
            return {"room": ""}
        if self.asked(tracker, "room") and substantive(text, 1) and not self.repeats(tracker):
            return {"room": text.strip()}
        return {}

    def validate_room(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> Slots:
        if value == "" and "room" in self.spec.optional:
            return {"room": ""}
        room = parse_room(str(value or ""))
        if room is None:
            self.say(dispatcher, "room_not_understood")
            return {"room": None}
        return {"room": room.display}


class ValidateRepairForm(TicketFormValidation):
    form = "repair_form"

    def extract_problem(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.free_text(tracker, "problem")

    def validate_problem(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.validate_text("problem", value)

    def extract_location(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> Slots:
        """Where: a home room (家中卫生间) or a common place (5栋楼道, 车库B2). Read from the
        first message, the answer to the question, or a correction (位置错了，是…); a
        second fault told meanwhile never moves the first one."""
        latest = tracker.latest_message
        text = text_of(latest)
        if not (self.first_turn(tracker) or self.asked(tracker, "location")
                or answers.is_no(text) or tracker.get_slot("location") is None):
            return {}
        place = find_place_text(text) or find_place(latest)
        home = home_word(text)
        if home and (not place or text.find(home) < text.find(place)):
            return {"location": "家中" + ("" if home in ("家里", "家中", "我家") else home)}
        if place:
            return {"location": place}
        if self.asked(tracker, "location") and (find_room(latest) or
                                                find_word(text, list(HOME_ANSWERS))):
            return {"location": "家中"}
        if self.first_turn(tracker) and find_word(text, words("home_items")):
            return {"location": "家中"}  # 马桶, 热水器: only ever inside a home
        reply = self.answer(tracker, "location")
        return {"location": reply} if reply else {}

    def validate_location(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: dict[str, Any]) -> Slots:
        """A home fault takes the resident's bound home unless another was given; a
        common-area fault takes no home at all (5栋楼道 is not the resident's flat)."""
        kind = "home" if str(value).startswith("家中") else "common"
        slots: Slots = {"location": str(value), "location_kind": kind}
        room, home = tracker.get_slot("room"), tracker.get_slot("home_room")
        if kind == "home" and not room and home:
            slots["room"] = home
        if kind == "common" and room and room == home and not find_room(tracker.latest_message):
            slots["room"] = None
        return slots

    def extract_visit_time(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: dict[str, Any]) -> Slots:
        return self.read_time(tracker, "visit_time")

    def validate_visit_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                           domain: dict[str, Any]) -> Slots:
        return self.validate_time("visit_time", value, dispatcher)


class ValidateComplaintForm(TicketFormValidation):
    form = "complaint_form"

    def extract_details(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.free_text(tracker, "details")

    def validate_details(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> Slots:
        rules = DispatchRules.load(self.deps.config.path(self.deps.config.tickets.rules_file))
        slots = {"details": value, "subject": rules.classify("complaint", str(value)).category}
        phone = find_phone(tracker.latest_message)
        # the number cut from the details is kept where it belongs, for the callback
        return {**slots, "phone": phone} if phone and not tracker.get_slot("phone") else slots

    def extract_callback(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> Slots:
        if not self.asked(tracker, "callback"):
            return {}
        answer = answers.callback_answer(text_of(tracker.latest_message))
        return {} if answer is None else {"callback": answer}

    def validate_callback(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: dict[str, Any]) -> Slots:
        return {"callback": bool(value)}


class ValidateSuggestionForm(TicketFormValidation):
    form = "suggestion_form"

    def extract_content(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.free_text(tracker, "content")

    def validate_content(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.validate_text("content", value)


class ValidateServiceForm(TicketFormValidation):
    form = "service_form"

    def extract_service(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        text = text_of(tracker.latest_message)
        for service, synonyms in services().items():
            if find_word(text, synonyms):
                return {"service": service}
        return {}

    def validate_service(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: dict[str, Any]) -> Slots:
        return self.validate_text("service", value)

    def extract_when(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: dict[str, Any]) -> Slots:
        return self.read_time(tracker, "when")

    def validate_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> Slots:
        return self.validate_time("when", value, dispatcher)


class ValidateBindForm(TicketFormValidation):
    """Binding checks the room against the roster and the phone's last four digits."""

    form = "bind_form"

    def validate_room(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> Slots:
        failures = int(tracker.get_slot("bind_failures") or 0)
        if failures >= self.deps.config.tickets.max_bind_attempts:
            self.say(dispatcher, "bind_locked")
            return {"room": None, "form_abort": True}
        room = parse_room(str(value or ""))
        if room is None:
            self.say(dispatcher, "room_not_understood")
            return {"room": None}
        if not Households(self.deps.sessions).on_roster(room):
            self.say(dispatcher, "bind_not_on_roster", room=room.display)
            return {"room": None, "form_abort": True}
        return {"room": room.display}

    def extract_last4(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> Slots:
        if not self.asked(tracker, "last4"):
            return {}
        digits = answers.last4(text_of(tracker.latest_message))
        if digits is None:
            self.say(dispatcher, "bind_last4_format")
            return {}
        return {"last4": digits}

    def validate_last4(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: dict[str, Any]) -> Slots:
        room = parse_room(str(tracker.get_slot("room") or ""))
        household = Households(self.deps.sessions).verify(room, str(value)) if room else None
        if household is not None:
            return {"last4": "verified", "household_id": household}
        failures = int(tracker.get_slot("bind_failures") or 0) + 1
        left = self.deps.config.tickets.max_bind_attempts - failures
        if left <= 0:
            self.say(dispatcher, "bind_locked")
            return {"last4": None, "bind_failures": failures, "form_abort": True}
        self.say(dispatcher, "bind_wrong_digits", left=left)
        return {"last4": None, "bind_failures": failures}


VALIDATORS: tuple[type[TicketFormValidation], ...] = (
    ValidateRepairForm, ValidateComplaintForm, ValidateSuggestionForm, ValidateServiceForm,
    ValidateBindForm,
)


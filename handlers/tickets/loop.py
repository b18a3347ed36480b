"""The form loop the engine runs for every message while a form is active.

Per message: cancel, a photo, the form's own request again, an FAQ digression,
the confirmation, or else the FormValidationAction extracts and validates slots;
then the next question, the summary, or the submit action follows. One question
at a time; a question left open is asked again with a hint (handlers.tickets.reask).
"""

from __future__ import annotations

import time
import uuid
from difflib import SequenceMatcher
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction, decision_of, route_args
from handlers.deps import HandlerDeps
from handlers.intents import INTENT_ACTIONS
from handlers.tickets import answers, switch
from handlers.tickets.extract import (
    find_phone,
    find_room,
    find_time,
    plain,
    substantive,
    text_of,
)
from handlers.tickets.forms import FormSpec, every_form_slot, form_specs, words
from handlers.tickets.households import Households
from handlers.tickets.reask import Unanswered, bare_request, hint, reask_lines, same_request
from handlers.tickets.summary import question_again, render_summary, summary_value
from handlers.tickets.switch import clear_form
from handlers.tickets.validation import TicketFormValidation

Events = list[dict[str, Any]]


SAME_FAULT_RATIO = 0.6
# Asked mid-form, these are answered and the form stays as it was.
QUICK_ACTIONS = (INTENT_ACTIONS["ticket_status"], INTENT_ACTIONS["bill_query"])
SHORT_ANSWER = 10  # characters: longer messages that start another request are a switch
MAX_SUMMARIES = 2  # the same summary is shown at most twice; then we say what is missing
MEDIA_FRESH_SECONDS = 600  # photos sent this long before a form starts belong to it


def fresh_media(media: Any) -> list[dict[str, Any]]:
    """The media sent just before the form started."""
    now = time.time()
    return [m for m in (media or []) if now - float(m.get("at") or 0) <= MEDIA_FRESH_SECONDS]


def _with_latest(tracker: Tracker, latest: dict[str, Any], slots: dict[str, Any]) -> Tracker:
    return Tracker(tracker.sender_id, dict(slots), latest, [], False, None, {}, None)


class FormLoop(BaseAction):
    def __init__(self, deps: HandlerDeps, spec: FormSpec,
                 validator: TicketFormValidation) -> None:
        super().__init__(deps)
        self.spec = spec
        self.validator = validator
        self.action_name = spec.name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        """One turn; everything said is merged into one message (WeChat shows one reply)."""
        local = CollectingDispatcher()
        events = await self.step(local, tracker)
        texts = [m["text"] for m in local.messages if m.get("text")]
        if texts:
            dispatcher.utter_message(text="\n".join(texts))
        return events

    async def step(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        slots = dict(tracker.slots)
        active = (tracker.active_loop or {}).get("name") == self.spec.name
        early, tracker, events = self.enter(dispatcher, tracker, slots, active)
        if early is not None:
            return early
        return events + await self.fill(dispatcher, tracker, slots, active)

    def enter(self, dispatcher: CollectingDispatcher, tracker: Tracker, slots: dict[str, Any],
              active: bool) -> tuple[Events | None, Tracker, Events]:
        """Start the form, or take what is no answer (a switch choice, a photo, cancel, an
        FAQ question); returns early events when the turn ends here."""
        if not active:
            replay = slots.get("replay")
            events = self.start(dispatcher, tracker.sender_id, slots)
            events += self.blame_recorded(tracker)
            slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
            if replay:  # the message that asked for this form while another was open
                tracker = _with_latest(tracker, replay, slots)
            return None, tracker, events
        if slots.get("switch_to") and (
                chosen := switch.answer(self.deps.texts, self.spec, dispatcher, tracker, slots)):
            if chosen[-1].get("event") != "followup":
                chosen += self.reask(dispatcher, slots, slots.get("requested_slot"))
            return chosen, tracker, []
        if (reply := self.interrupt(dispatcher, tracker, slots)) is not None:
            return reply, tracker, []
        if slots.get("switch_to"):  # no choice made: the message is the form's again
            slots["switch_to"] = None
            return None, tracker, [SlotSet("switch_to", None)]
        return None, tracker, []

    async def fill(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                   slots: dict[str, Any], active: bool) -> Events:
        """Read the answer into slots, then the next question, the summary or the submit."""
        events: Events = []
        requested = slots.get("requested_slot")
        text = text_of(tracker.latest_message)
        if requested == "confirm" and answers.is_yes(text):
            return events + [FollowupAction(self.spec.submit)]
        said = CollectingDispatcher()
        validated = await self.validate(said, tracker, slots)
        target = self.switch_target(tracker) if active else None
        if target and not self.answered(validated, requested, text):
            if target in QUICK_ACTIONS:  # a quick question (进度, 账单): answered, form kept
                return [FollowupAction(target)]
            return switch.offer(self.deps.texts, self.spec, dispatcher, tracker, slots, target)
        dispatcher.messages.extend(said.messages)
        corrected = self.acknowledge_corrections(dispatcher, slots, validated)
        before = dict(slots)
        events += validated
        events += self.second_fault(dispatcher, tracker, slots, validated) if active else []
        slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
        if slots.get("form_abort"):
            return events + clear_form()
        changed = any(before.get(k) != slots.get(k) for k in self.spec.all_slots
                      if k not in ("requested_slot", "form_retries", "summary_shown"))
        if requested == "confirm" and not changed and answers.is_no(text):
            return events + self.ask_correction(dispatcher, text, slots)
        if active and requested not in (None, "confirm") and requested == self.spec.missing(slots):
            recorded = self.acknowledge_recorded(dispatcher, before, slots, requested) or \
                corrected or any(e.get("name") == self.spec.describe for e in events[-1:])
            return events + self.not_answered(dispatcher, tracker, slots, Unanswered(
                requested, self.tries(slots, failed=not recorded), recorded,
                explained=bool(said.messages)))
        return events + self.next_step(dispatcher, tracker, slots, requested, changed)

    def start(self, dispatcher: CollectingDispatcher, openid: str,
              slots: dict[str, Any]) -> Events:
        """A fresh form: the resident's bound home and phone as defaults, and the photos
        sent just before it started attached."""
        events = [SlotSet(slot, None) for slot in every_form_slot()]
        media = fresh_media(slots.get("recent_media"))
        events += [ActiveLoop(self.spec.name), SlotSet("form_id", uuid.uuid4().hex),
                   SlotSet("photos", media), SlotSet("recent_media", None)]
        if media:
            self.say(dispatcher, "media_attached", count=len(media))
        if self.spec.name == "bind_form" or "room" not in self.spec.slots + self.spec.summary:
            return events
        homes = Households(self.deps.sessions)
        rooms = homes.rooms(openid)
        if rooms:
            events.append(SlotSet("home_room", rooms[0].display))
            if self.spec.name != "repair_form":  # a repair's home depends on where it is
                events.append(SlotSet("room", rooms[0].display))
            phone = homes.phone(openid, rooms[0])
            if phone:
                events.append(SlotSet("phone", phone))
        return events

    def blame_recorded(self, tracker: Tracker) -> Events:
        """A fault told with blame (修了跟没修一样，物业不作为) is a repair that records the
        complaint too: the ticket carries it and is called back like a complaint."""
        decision = decision_of(tracker)
        if self.spec.ticket_type == "repair" and decision is not None and decision.also_complaint:
            return [SlotSet("also_complaint", True)]
        return []

    @staticmethod
    def answered(validated: Events, requested: str | None, text: str) -> bool:
        """Did the message answer the open question (a short answer filling it), rather
        than start something else that happens to contain a value (我要预约明天上午的保洁)?"""
        filled = {e.get("name") for e in validated if e.get("value") is not None}
        if filled and answers.is_no(text):
            return True  # 地址错了，是3栋2单元503: a correction
        return bool(filled) and len(plain(text)) <= SHORT_ANSWER

    def second_fault(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     slots: dict[str, Any], validated: Events) -> Events:
        """Another fault told while a question is open (还有厨房水龙头也坏了) joins the
        description instead of replacing where the first one is."""
        describe = self.spec.describe
        requested = slots.get("requested_slot")
        if not describe or not slots.get(describe) or requested in (None, describe, "confirm") \
                or any(e.get("value") is not None for e in validated):
            return []
        decision = decision_of(tracker)
        if decision is None or decision.intent != self.spec.intent or decision.is_unsure():
            return []
        fault = self.validator.describe(tracker, text_of(tracker.latest_message))
        known = str(slots[describe])
        if not substantive(fault) or bare_request(self.spec, fault) or \
                SequenceMatcher(None, known, fault).ratio() >= SAME_FAULT_RATIO:
            return []  # the same fault told again (又漏水了) is no second one
        self.say(dispatcher, "second_fault_added", fault=fault)
        return [SlotSet(describe, f"{slots[describe]}；{fault}"[:500])]

    def ask_correction(self, dispatcher: CollectingDispatcher, text: str,
                       slots: dict[str, Any]) -> Events:
        """不对 / 电话写错了 with no new value: ask for the one that is wrong, by name."""
        asked = [s for s in self.spec.required(slots) if s in self.spec.summary]
        slot = answers.correction_target(text, tuple(asked))
        if slot is None:
            self.say(dispatcher, "ask_which_correction")
            return [SlotSet("summary_shown", None)]
        self.say(dispatcher, "ask_corrected_value", label=self.deps.texts(f"label_{slot}"),
                 hint=hint(self.deps.texts, self.spec.name, slot))
        return [SlotSet(slot, None), SlotSet("requested_slot", slot),
                SlotSet("summary_shown", None)]

    def interrupt(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  slots: dict[str, Any]) -> Events | None:
        """Cancel, a photo or an FAQ question: handled without touching the form's slots."""
        latest = tracker.latest_message or {}
        text = text_of(latest)
        requested = slots.get("requested_slot")
        image = route_args(tracker).get("image")
        if image:
            photos = list(slots.get("photos") or []) + [image]
            self.say(dispatcher, "photo_received", count=len(photos))
            slots["photos"] = photos
            return [SlotSet("photos", photos), *self.reask(dispatcher, slots, requested, True)]
        if answers.is_cancel(text, yes_no_question=requested == "callback"):
            self.say(dispatcher, "form_cancelled")
            return clear_form()
        if requested and bare_request(self.spec, text):
            return self.not_answered(dispatcher, tracker, slots, Unanswered(
                requested, self.tries(slots), same_request=True))
        faq_id = None if answers_question(latest, requested) else self.digression(tracker)
        if faq_id:
            entry = self.deps.faqs.get(faq_id)
            dispatcher.utter_message(text=self.deps.texts("faq_answer", answer=entry.answer))
            self.say(dispatcher, "form_resume")
            return self.reask(dispatcher, slots, requested)
        return None

    def digression(self, tracker: Tracker) -> str | None:
        """A confident FAQ question that is not the answer we asked for."""
        decision = decision_of(tracker)
        nlu = self.deps.config.nlu
        if decision is None or decision.intent != "faq" or not decision.faq_id:
            return None
        # A form's answer must not be taken for a question: the entry has to match as
        # strongly as an FAQ must to override another intent (faq_override_score).
        if decision.faq_score < nlu.faq_override_score:
            return None
        entry = self.deps.faqs.get(decision.faq_id)
        return decision.faq_id if entry is not None and entry.enabled else None

    def acknowledge_corrections(self, dispatcher: CollectingDispatcher, before: dict[str, Any],
                                validated: Events) -> bool:
        """Say so when a value given earlier was replaced (不对，是3栋2单元503)."""
        corrected = False
        for event in validated:
            name, value = event.get("name"), event.get("value")
            old = before.get(str(name))
            if name in self.spec.summary and value is not None and old not in (None, "", value):
                self.say(dispatcher, "slot_corrected", label=self.deps.texts(f"label_{name}"),
                         value=summary_value(str(name), value))
                corrected = True
        return corrected

    def acknowledge_recorded(self, dispatcher: CollectingDispatcher, before: dict[str, Any],
                             after: dict[str, Any], requested: str) -> bool:
        """Say what an answer to another question filled (明天上午 when asked for a phone)."""
        filled = [slot for slot in self.spec.slots if slot != requested and
                  before.get(slot) is None and after.get(slot) not in (None, "")]
        for slot in filled:
            self.say(dispatcher, "slot_recorded", label=self.deps.texts(f"label_{slot}"),
                     value=summary_value(slot, after[slot]))
        return bool(filled)

    @staticmethod
    def tries(slots: dict[str, Any], failed: bool = True) -> int:
        """Failed tries at the question asked, this turn included; a turn that filled or
        corrected another slot was no failure."""
        return int(slots.get("form_retries") or 0) + int(failed)

    def not_answered(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     slots: dict[str, Any], turn: Unanswered) -> Events:
        """The question stays open: explain what is expected instead of repeating it."""
        if turn.slot == "confirm":
            self.say(dispatcher, f"form_in_progress_{self.spec.name}")
            return self.reask(dispatcher, slots, turn.slot)
        threshold = self.deps.config.nlu.confidence_threshold
        if not turn.same_request and same_request(self.spec, tracker, threshold):
            turn = Unanswered(turn.slot, turn.tries, turn.recorded, True, turn.explained)
        for line in reask_lines(self.deps.texts, self.spec.name, turn):
            dispatcher.utter_message(text=line)
        return [SlotSet("form_retries", turn.tries or None)]

    def switch_target(self, tracker: Tracker) -> str | None:
        """The resident clearly moved on (another request, 转人工) instead of answering."""
        decision = decision_of(tracker)
        if decision is None or decision.intent not in words("switch_intents"):
            return None
        if decision.is_unsure():
            return None
        target = INTENT_ACTIONS.get(decision.intent)
        text = text_of(tracker.latest_message)
        specs = {spec.intent: spec for spec in form_specs().values()}
        other = specs.get(decision.intent)
        named = other is None or any(w in text for w in other.requests)
        if not named and (target == INTENT_ACTIONS["bind_house"]
                          or len(plain(text)) <= SHORT_ANSWER):
            return None  # 明天上午 / a home named mid-form: an answer, not a new request
        return target if target != self.spec.name else None

    async def validate(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                       slots: dict[str, Any]) -> Events:
        sub = Tracker(tracker.sender_id, dict(slots), tracker.latest_message, [], False, None,
                      {"name": self.spec.name}, None)
        domain = {"forms": {self.spec.name: {"required_slots": list(self.spec.slots)}},
                  "slots": {}}
        events = await self.validator.run(dispatcher, sub, domain)
        return [e for e in events if e.get("name") != "requested_slot"]

    def next_step(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  slots: dict[str, Any], requested: str | None, changed: bool = True) -> Events:
        missing = self.spec.missing(slots)
        events: Events = [SlotSet("form_retries", None)] if slots.get("form_retries") else []
        if missing:
            self.ask(dispatcher, slots, missing)
            return events + [SlotSet("requested_slot", missing)]
        if not self.spec.confirm:
            return events + [SlotSet("requested_slot", None), FollowupAction(self.spec.submit)]
        shown = int(slots.get("summary_shown") or 0) if requested == "confirm" else 0
        if requested == "confirm" and not changed and shown >= MAX_SUMMARIES:
            self.say(dispatcher, "confirm_what_missing")  # never a third identical summary
            return events
        self.say(dispatcher, "summary_intro")
        dispatcher.utter_message(text=self.summary(slots))
        self.say(dispatcher, "summary_outro")
        return events + [SlotSet("requested_slot", "confirm"),
                         SlotSet("summary_shown", 1 if changed else shown + 1)]

    def ask(self, dispatcher: CollectingDispatcher, slots: dict[str, Any], slot: str) -> None:
        self.say(dispatcher, f"ask_{self.spec.name}_{slot}")

    def reask(self, dispatcher: CollectingDispatcher, slots: dict[str, Any],
              requested: str | None, changed: bool = False) -> Events:
        """The open question again; an unchanged summary is shown at most MAX_SUMMARIES
        times, then the bot says what it is waiting for instead."""
        shown = 0 if changed else int(slots.get("summary_shown") or 0)
        if requested == "confirm" and shown >= MAX_SUMMARIES:
            self.say(dispatcher, "confirm_what_missing")
            return []
        for line in question_again(self.deps.texts, self.spec, slots, requested):
            dispatcher.utter_message(text=line)
        return [SlotSet("summary_shown", shown + 1)] if requested == "confirm" else []

    def summary(self, slots: dict[str, Any]) -> str:
        return render_summary(self.deps.texts, self.spec, slots)


def answers_question(latest: dict[str, Any], requested: str | None) -> bool:
    """A short closed answer (需要, 确认, a time, a room...) is never an FAQ digression."""
    text = text_of(latest)
    if requested == "callback" and answers.callback_answer(text) is not None:
        return True
    if requested == "last4" and answers.last4(text):
        return True
    if requested == "confirm" and (answers.is_yes(text) or answers.is_no(text)):
        return True
    if answers.is_closed(text) or answers.is_place_word(text) or answers.is_skip(text):
        return True
    return any(
        found(latest) for found in (find_room, find_phone, find_time))

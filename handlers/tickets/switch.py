"""Another request while a form is open: finish the first, keep it for later, or drop it.

Nothing is dropped without a word. A form with nothing of the resident's in it yet
just gives way; otherwise the bot asks (1 finish, 2 keep, 3 drop) and keeps the
new message, which is replayed into the new form once the resident has chosen.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.texts import Texts
from handlers.tickets.extract import plain, text_of
from handlers.tickets.forms import FormSpec, every_form_slot, form_specs
from handlers.tickets.summary import question_again

Events = list[dict[str, Any]]
FINISH = ("1", "先完成", "完成", "先办这个", "继续", "继续登记", "先把这个办完", "先提交这个",
          "这个先", "先把", "先提交", "先报修", "先登记", "先弄完", "先办完", "接着", "先这个")
KEEP = ("2", "保存", "先保存", "稍后", "留着", "先放着", "都要", "两个都要", "先办新的", "新的先",
        "保留", "先留着", "等会", "待会")
DROP = ("3", "放弃", "不要了", "删掉", "删了", "取消", "算了", "不用了", "不办了", "不要这个了",
        "放弃这个")
_DIGITS = str.maketrans("１２３一二三", "123123")


def clear_form() -> Events:
    """Forget every form slot (not bind_failures, which must outlive a form)."""
    return [SlotSet(slot, None) for slot in every_form_slot()] + [ActiveLoop(None)]


def has_content(spec: FormSpec, slots: dict[str, Any]) -> bool:
    """Did the resident give this form anything yet (beyond what we filled ourselves)?"""
    own = {"room": slots.get("home_room")}
    return any(slots.get(slot) not in (None, "", own.get(slot)) for slot in spec.slots
               if slot != "phone") or bool(slots.get("photos"))


def offer(texts: Texts, spec: FormSpec, dispatcher: CollectingDispatcher, tracker: Tracker,
          slots: dict[str, Any], target: str) -> Events:
    """Another form was asked for: switch at once if this one is empty, else ask."""
    latest = dict(tracker.latest_message or {})
    if not has_content(spec, slots):
        return clear_form() + _replay(latest, target) + [FollowupAction(target)]
    dispatcher.utter_message(text=texts("switch_ask", current=_name(texts, spec)))
    return [SlotSet("switch_to", {"action": target, "message": latest})]


def answer(texts: Texts, spec: FormSpec, dispatcher: CollectingDispatcher, tracker: Tracker,
           slots: dict[str, Any]) -> Events | None:
    """The resident's choice; None when the message is no choice (it goes to the form)."""
    pending = slots.get("switch_to") or {}
    choice = _choice(text_of(tracker.latest_message or {}))
    current = _name(texts, spec)
    if choice is None:
        return None
    if choice == "finish":  # the new request is not lost: it follows the submit
        dispatcher.utter_message(text=texts("switch_finish_first", current=current))
        return [SlotSet("switch_to", None), SlotSet("after_form", pending)]
    target, message = str(pending["action"]), dict(pending["message"])
    events = clear_form()
    if choice == "keep":
        kept = {k: v for k, v in slots.items() if k in spec.all_slots and v is not None
                and k not in ("switch_to", "replay")}
        parked = list(slots.get("parked_forms") or []) + [{"loop": spec.name, "slots": kept}]
        events.append(SlotSet("parked_forms", parked))
        dispatcher.utter_message(text=texts("switch_parked", current=current))
    else:
        dispatcher.utter_message(text=texts("switch_dropped", current=current))
    return events + _replay(message, target) + [FollowupAction(target)]


def after_submit(slots: dict[str, Any]) -> Events:
    """A request told while this form was being finished starts once it is submitted."""
    pending = slots.get("after_form")
    if not pending:
        return []
    target = str(pending["action"])
    return _replay(dict(pending["message"]), target) + [FollowupAction(target)]


def _replay(message: dict[str, Any], target: str) -> Events:
    """The message that asked for the new form is read by it as its first message."""
    return [SlotSet("replay", message)]


def _choice(text: str) -> str | None:
    p = plain(text).translate(_DIGITS)
    for name, words in (("finish", FINISH), ("keep", KEEP), ("drop", DROP)):
        if p in words or (len(p) <= 8 and any(w in p for w in words if len(w) > 1)):
            return name
    return None


def _name(texts: Texts, spec: FormSpec) -> str:
    return texts(f"form_name_{spec.name}")


class ResumeFormAction(BaseAction):
    """继续: the latest form kept for later is opened again where it was left."""

    action_name = "action_resume_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        parked = list(tracker.get_slot("parked_forms") or [])
        if not parked:
            self.say(dispatcher, "resume_nothing")
            return []
        form = parked.pop()
        events: Events = [SlotSet(slot, None) for slot in every_form_slot()]
        events += [SlotSet(k, v) for k, v in form["slots"].items()]
        events += [ActiveLoop(form["loop"]), SlotSet("parked_forms", parked or None),
                   SlotSet("summary_shown", 1 if form["slots"].get("requested_slot") == "confirm"
                           else None)]
        lines = [self.deps.texts("form_resume"), *question_again(
            self.deps.texts, form_specs()[form["loop"]], dict(form["slots"]),
            form["slots"].get("requested_slot"))]
        dispatcher.utter_message(text="\n".join(lines))
        return events

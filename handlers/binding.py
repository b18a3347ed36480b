"""绑定房屋: link a WeChat user to a home after checking the roster's phone digits; unbind."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.tickets.extract import find_room, text_of
from handlers.tickets.households import Households
from handlers.tickets.loop import clear_form
from handlers.tickets.rooms import parse_room

UNBIND_WORDS = ("解绑", "解除绑定", "取消绑定", "删除绑定")


class BindHouseAction(BaseAction):
    """Entry for bind_house: unbinding is immediate, binding runs the bind form."""

    action_name = "action_bind_house"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        latest = tracker.latest_message or {}
        if not any(word in text_of(latest) for word in UNBIND_WORDS):
            return [FollowupAction("bind_form")]
        homes = Households(self.deps.sessions)
        bound = homes.rooms(tracker.sender_id)
        room = find_room(latest) or (bound[0] if len(bound) == 1 else None)
        if room is None:
            self.say(dispatcher, "unbind_which", rooms="、".join(r.display for r in bound) or "无")
        elif homes.unbind(tracker.sender_id, room):
            self.say(dispatcher, "unbind_done", room=room.display)
        else:
            self.say(dispatcher, "unbind_not_bound", room=room.display)
        return []


class SubmitBindingAction(BaseAction):
    """Runs once the bind form verified the digits: the binding itself."""

    action_name = "action_submit_binding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        room = parse_room(str(tracker.get_slot("room") or ""))
        household = tracker.get_slot("household_id")
        if room is None or tracker.get_slot("last4") != "verified":
            self.say(dispatcher, "bind_failed")
            return clear_form()
        Households(self.deps.sessions).bind(tracker.sender_id, room,
                                            int(household) if household else None)
        self.say(dispatcher, "bind_done", room=room.display)
        return clear_form()

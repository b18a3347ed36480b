"""When the bot cannot help: clarify once, then store the message for a person, honestly."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction


class FallbackAction(BaseAction):
    """First miss: ask to rephrase. Second miss in a row: hand over to an agent."""

    action_name = "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        misses = int(tracker.get_slot("fallback_count") or 0) + 1
        if misses == 1:
            self.say(dispatcher, "clarify")
            return [SlotSet("fallback_count", misses), SlotSet("flag_for_agent", True)]
        self.say(dispatcher, "fallback_stored")
        return [
            SlotSet("fallback_count", 0),
            SlotSet("flag_for_agent", True),
            SlotSet("handover", "fallback"),
        ]

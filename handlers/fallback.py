"""When the bot cannot help: ask to rephrase, and keep the message for a person.

Unclear messages alone never queue the conversation for a person: two unrelated
unclear questions are no reason to. The message is flagged so nothing is lost,
and the resident is told how to reach a person (回复“人工”).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.outcomes import FlagForAgent


class FallbackAction(BaseAction):
    """First miss: ask to rephrase. Misses in a row: say the message is kept for a person."""

    action_name = "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        misses = int(tracker.get_slot("fallback_count") or 0) + 1
        self.say(dispatcher, "clarify" if misses == 1 else "fallback_stored")
        return [SlotSet("fallback_count", misses), FlagForAgent("not understood")]

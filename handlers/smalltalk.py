"""Greetings, goodbyes and polite refusals: short answers in the service language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction, decision_of


class GreetAction(BaseAction):
    action_name = "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        self.say(dispatcher, "greet")
        return [SlotSet("fallback_count", 0)]


class GoodbyeAction(BaseAction):
    action_name = "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        self.say(dispatcher, "goodbye")
        return [SlotSet("fallback_count", 0)]


class OutOfScopeAction(BaseAction):
    action_name = "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        # Another body's matter (燃气公司, 开发商, 学区…): its referral entry says where to go.
        decision = decision_of(tracker)
        entry = self.deps.faqs.get(decision.referral) if decision and decision.referral else None
        if entry is not None and entry.enabled:
            dispatcher.utter_message(text=self.deps.texts("faq_answer", answer=entry.answer))
            return []
        self.say(dispatcher, "out_of_scope")
        return []


class CapabilitiesAction(BaseAction):
    """你能做什么 / 你是谁: who the bot is and what it can do here."""

    action_name = "action_capabilities"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        self.say(dispatcher, "capabilities")
        return [SlotSet("fallback_count", 0)]

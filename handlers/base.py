"""The small contract every handler shares: a rasa-sdk Action with explicit dependencies.

Conventions between handlers and the dialogue engine (all plain rasa-sdk events):
- the NLU decision for the latest message is in `latest_message["metadata"]["decision"]`;
- `SlotSet("handover", reason)` asks the engine to queue the conversation for an agent;
- `SlotSet("flag_for_agent", True)` marks the current inbound message for a person;
- `SlotSet("faq_menu", [ids])` offers a numbered FAQ menu the engine resolves next turn.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from handlers.deps import HandlerDeps
from nlu.decision import Decision


def decision_of(tracker: Tracker) -> Decision | None:
    """The NLU decision the engine attached to the latest message, if any."""
    data = (tracker.latest_message or {}).get("metadata", {}).get("decision")
    return Decision.from_dict(data) if data else None


class BaseAction(Action):
    """An Action that knows its dependencies and speaks from the text table."""

    action_name = ""

    def __init__(self, deps: HandlerDeps) -> None:
        self.deps = deps

    def name(self) -> str:
        return self.action_name

    def say(self, dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
        dispatcher.utter_message(text=self.deps.texts(key, **values))

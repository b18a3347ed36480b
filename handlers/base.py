"""The small contract every handler shares: a rasa-sdk Action with explicit dependencies.

Conventions between handlers and the dialogue engine:
- the NLU decision for the latest message is in `latest_message["metadata"]["decision"]`;
- what the route chose the action with (a menu pick, a ticket number) is in
  `latest_message["metadata"]["route"]` (read with `route_args`);
- actions return rasa-sdk events plus typed control outcomes (handlers/outcomes.py):
  HandOver, CancelHandover, FlagForAgent, OfferFaqMenu, NotifyStaff.
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


def route_args(tracker: Tracker) -> dict[str, Any]:
    """What the routing table chose this action with (bot/routing.py)."""
    return dict((tracker.latest_message or {}).get("metadata", {}).get("route") or {})


class BaseAction(Action):
    """An Action that knows its dependencies and speaks from the text table."""

    action_name = ""

    def __init__(self, deps: HandlerDeps) -> None:
        self.deps = deps

    def name(self) -> str:
        return self.action_name

    def say(self, dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
        dispatcher.utter_message(text=self.deps.texts(key, **values))

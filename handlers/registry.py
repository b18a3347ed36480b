"""The one table mapping intents to the actions that handle them.

Explicit on purpose: no subclass scanning, no import-time registration. The
dialogue engine and the rasa-sdk action server both build their actions here.
"""

from __future__ import annotations

from rasa_sdk import Action

from handlers.deps import HandlerDeps
from handlers.fallback import (
    EmergencyFallbackAction,
    FallbackAction,
    NotAvailableAction,
)
from handlers.faq import FaqAction
from handlers.human import HumanAction, RatingAction
from handlers.smalltalk import GoodbyeAction, GreetAction, OutOfScopeAction

# intent code (shared/spec/intents.yaml) → action name
INTENT_ACTIONS: dict[str, str] = {
    "greet": "action_greet",
    "goodbye": "action_goodbye",
    "faq": "action_faq",
    "out_of_scope": "action_out_of_scope",
    "repair": "action_not_available",
    "complaint": "action_not_available",
    "suggestion": "action_not_available",
    "service_request": "action_not_available",
    "ticket_status": "action_not_available",
    "bill_query": "action_not_available",
    "bind_house": "action_not_available",
    "human": "action_human",
    "emergency": "action_emergency_basic",
}

FALLBACK_ACTION = "action_fallback"


def build_actions(deps: HandlerDeps) -> dict[str, Action]:
    """Every action this deployment runs, by name."""
    actions: list[Action] = [
        GreetAction(deps),
        GoodbyeAction(deps),
        FaqAction(deps),
        OutOfScopeAction(deps),
        FallbackAction(deps),
        NotAvailableAction(deps),
        EmergencyFallbackAction(deps),
        HumanAction(deps),
        RatingAction(deps),
    ]
    return {action.name(): action for action in actions}


class Registry:
    """Resolves an intent or a name to a built action."""

    def __init__(self, actions: dict[str, Action]) -> None:
        missing = {name for name in INTENT_ACTIONS.values() if name not in actions}
        if missing:
            raise ValueError(f"intents mapped to unknown actions: {sorted(missing)}")
        self.actions = actions

    def for_intent(self, intent: str) -> Action:
        return self.actions[INTENT_ACTIONS.get(intent, FALLBACK_ACTION)]

    def get(self, name: str) -> Action:
        return self.actions[name]

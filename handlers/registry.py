"""Every action this deployment runs, by name; intents map to them in handlers/intents.py.

Explicit on purpose: no subclass scanning, no import-time registration. The
dialogue engine and the rasa-sdk action server both build their actions here.
"""

from __future__ import annotations

from rasa_sdk import Action

from handlers.deps import HandlerDeps
from handlers.fallback import FallbackAction
from handlers.faq import FaqAction
from handlers.feedback import AnswerFeedbackAction
from handlers.human import CancelHandoverAction, HumanAction, WaitingStatusAction
from handlers.intents import INTENT_ACTIONS, MENU_INTENT_ACTIONS, action_for
from handlers.notices import RecentNoticesAction
from handlers.rating import RatingAction
from handlers.smalltalk import CapabilitiesAction, GoodbyeAction, GreetAction, OutOfScopeAction
from handlers.tickets.actions import build_ticket_actions
from handlers.welcome import WelcomeAction

__all__ = ["INTENT_ACTIONS", "Registry", "build_actions"]


def build_actions(deps: HandlerDeps) -> dict[str, Action]:
    """Every action this deployment runs, by name."""
    actions: list[Action] = [
        GreetAction(deps),
        GoodbyeAction(deps),
        CapabilitiesAction(deps),
        FaqAction(deps),
        OutOfScopeAction(deps),
        FallbackAction(deps),
        HumanAction(deps),
        WaitingStatusAction(deps),
        CancelHandoverAction(deps),
        RatingAction(deps),
        AnswerFeedbackAction(deps),
        RecentNoticesAction(deps),
        WelcomeAction(deps),
        *build_ticket_actions(deps),
    ]
    return {action.name(): action for action in actions}


class Registry:
    """Resolves an intent or a name to a built action."""

    def __init__(self, actions: dict[str, Action]) -> None:
        missing = {name for name in (*INTENT_ACTIONS.values(), *MENU_INTENT_ACTIONS.values())
                   if name not in actions}
        if missing:
            raise ValueError(f"intents mapped to unknown actions: {sorted(missing)}")
        self.actions = actions

    def for_intent(self, intent: str) -> Action:
        return self.actions[action_for(intent)]

    def get(self, name: str) -> Action:
        return self.actions[name]

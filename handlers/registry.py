"""The one table mapping intents to the actions that handle them.

Explicit on purpose: no subclass scanning, no import-time registration. The
dialogue engine and the rasa-sdk action server both build their actions here.
"""

from __future__ import annotations

from rasa_sdk import Action

from handlers.deps import HandlerDeps
from handlers.fallback import FallbackAction
from handlers.faq import FaqAction
from handlers.feedback import AnswerFeedbackAction
from handlers.human import HumanAction, RatingAction
from handlers.notices import RecentNoticesAction
from handlers.smalltalk import GoodbyeAction, GreetAction, OutOfScopeAction
from handlers.tickets.actions import build_ticket_actions
from handlers.welcome import WelcomeAction

# intent code (shared/spec/intents.yaml) → action name
INTENT_ACTIONS: dict[str, str] = {
    "greet": "action_greet",
    "goodbye": "action_goodbye",
    "faq": "action_faq",
    "out_of_scope": "action_out_of_scope",
    "repair": "repair_form",
    "complaint": "complaint_form",
    "suggestion": "suggestion_form",
    "service_request": "service_form",
    "ticket_status": "action_ticket_status",
    "bill_query": "action_bill_query",
    "bind_house": "action_bind_house",
    "human": "action_human",
    "emergency": "action_emergency",
}
# Intents outside the NLU's taxonomy, reached only by menu buttons and keywords
# (bot/menu.yaml): 最近通知.
MENU_INTENT_ACTIONS: dict[str, str] = {
    "recent_notices": "action_recent_notices",
}

FALLBACK_ACTION = "action_fallback"
# Actions that may claim a message before intent routing (they answer a pending question).
CLAIMING_ACTIONS = ("action_ticket_rating", "action_answer_feedback")


def build_actions(deps: HandlerDeps) -> dict[str, Action]:
    """Every action this deployment runs, by name."""
    actions: list[Action] = [
        GreetAction(deps),
        GoodbyeAction(deps),
        FaqAction(deps),
        OutOfScopeAction(deps),
        FallbackAction(deps),
        HumanAction(deps),
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
        name = INTENT_ACTIONS.get(intent) or MENU_INTENT_ACTIONS.get(intent, FALLBACK_ACTION)
        return self.actions[name]

    def get(self, name: str) -> Action:
        return self.actions[name]

    def claim(self, openid: str, text: str) -> str | None:
        """The action that answers a question still pending for this resident, if any."""
        for name in CLAIMING_ACTIONS:
            action = self.actions.get(name)
            if action is not None and action.claims(openid, text):  # type: ignore[attr-defined]
                return name
        return None

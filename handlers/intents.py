"""The one table mapping intents (shared/spec/intents.yaml) to the actions that handle them.

A plain table with no imports, so forms (which switch to another intent's action)
and the registry (which builds the actions) both read it without an import cycle.
"""

from __future__ import annotations

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


def action_for(intent: str) -> str:
    return INTENT_ACTIONS.get(intent) or MENU_INTENT_ACTIONS.get(intent, FALLBACK_ACTION)

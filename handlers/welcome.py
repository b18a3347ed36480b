"""The subscribe welcome with its 猜你想问 card: a numbered list the next reply picks from."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from handlers.base import BaseAction
from knowledge_base.overrides import CommunityKnowledge
from knowledge_loop.welcome import WelcomeCards


def card_lines(deps: Any, community_id: int | None) -> tuple[list[str], list[str]]:
    """The card's lines and the entry ids they number (empty when nothing to offer)."""
    knowledge = CommunityKnowledge(deps.sessions)
    offered, lines = [], []
    for faq_id in WelcomeCards(deps.sessions, deps.config.knowledge).faq_ids(community_id):
        entry = knowledge.resolve(faq_id, community_id)
        if entry is None:
            continue
        offered.append(faq_id)
        lines.append(deps.texts("welcome_card_item", number=len(offered),
                                question=entry.question))
    return ([deps.texts("welcome_card_intro"), *lines] if offered else []), offered


class WelcomeAction(BaseAction):
    """关注公众号: the welcome text, then the most asked questions as a numbered menu."""

    action_name = "action_welcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        lines, offered = card_lines(self.deps, context.current_id())
        text = self.deps.texts("welcome")
        dispatcher.utter_message(text="\n\n".join([text, "\n".join(lines)]) if lines else text)
        return [SlotSet("faq_menu", offered)] if offered else []

"""Answer from the knowledge base; when unsure, offer the top questions as a numbered menu.

The NLU picks a topic company-wide; the text is the resident's community's
(its override, else the company entry: knowledge_base.overrides).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from handlers.base import BaseAction, decision_of, route_args
from handlers.outcomes import OfferFaqMenu, WriteWithOutcome
from knowledge_base.overrides import CommunityKnowledge
from knowledge_base.repository import Faq
from knowledge_loop.welcome import WelcomeCards

MENU_SIZE = 3


class FaqAction(BaseAction):
    action_name = "action_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[Any]:
        chosen = route_args(tracker).get("faq_choice")
        decision = decision_of(tracker)
        faq_id = chosen or (decision.faq_id if decision else None)
        # No entry of ours answers, but another body handles it: say where to go.
        referral = None if chosen or not decision else decision.referral
        if faq_id and self.answer(dispatcher, faq_id):
            return [SlotSet("fallback_count", 0), self.ask_feedback(dispatcher, tracker, faq_id)]
        if referral and self.answer(dispatcher, referral):
            return [SlotSet("fallback_count", 0)]
        nlu = self.deps.config.nlu
        from_menu = bool((tracker.latest_message or {}).get("metadata", {}).get("menu"))
        candidates = [c for c in (decision.candidates if decision else [])
                      if c.score >= nlu.faq_suggest_threshold]
        if from_menu:  # 常见问题: the welcome card's list (knowledge_loop.welcome)
            knowledge = self.deps.config.knowledge
            ids = WelcomeCards(self.deps.sessions, knowledge).faq_ids(
                context.current_id(), knowledge.overview_questions,
                [c.faq_id for c in candidates])
            return self.offer_menu(dispatcher, ids, "faq_overview")
        candidates = candidates[:MENU_SIZE]
        if candidates:
            return self.offer_menu(dispatcher, [c.faq_id for c in candidates])
        return [FollowupAction("action_fallback")]

    def entry(self, faq_id: str) -> Faq | None:
        """The topic as the resident's community answers it."""
        return CommunityKnowledge(self.deps.sessions).resolve(faq_id, context.current_id())

    def answer(self, dispatcher: CollectingDispatcher, faq_id: str) -> bool:
        entry = self.entry(faq_id)
        if entry is None:
            knowledge = CommunityKnowledge(self.deps.sessions)
            if not knowledge.belongs_elsewhere(faq_id, context.current_id()):
                return False
            self.say(dispatcher, "faq_not_in_community")
            return True
        dispatcher.utter_message(text=self.deps.texts("faq_answer", answer=entry.answer))
        return True

    def ask_feedback(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     faq_id: str) -> WriteWithOutcome:
        """Now and then ask whether the answer helped (knowledge_loop.feedback); the
        answer's log line is written with the turn's outcome."""
        question = str((tracker.latest_message or {}).get("text") or "")
        ask, write = self.deps.feedback.answer_log(tracker.sender_id, faq_id, question,
                                                   context.current_id())
        if ask:
            self.say(dispatcher, "feedback_prompt")
        return WriteWithOutcome(write)

    def offer_menu(self, dispatcher: CollectingDispatcher, faq_ids: list[str],
                   intro: str = "faq_menu_intro") -> list[Any]:
        texts = self.deps.texts
        lines = [texts(intro)]
        offered: list[str] = []
        for faq_id in faq_ids:
            entry = self.entry(faq_id)
            if entry is None:
                continue
            offered.append(faq_id)
            lines.append(texts("faq_menu_item", number=len(offered), question=entry.question))
        lines.append(texts("faq_menu_outro"))
        dispatcher.utter_message(text="\n".join(lines))
        return [OfferFaqMenu(tuple(offered))]

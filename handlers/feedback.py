"""The resident's numbered reply to 这个回答对您有帮助吗: stored, thanked, and an
unhelpful answer goes to the admins' unanswered queue (knowledge_loop.unanswered)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction


class AnswerFeedbackAction(BaseAction):
    """Claims "1".."4" (or 有帮助/没帮助) while a feedback question is open."""

    action_name = "action_answer_feedback"

    def claims(self, openid: str, text: str) -> bool:
        return self.deps.feedback.claims(openid, text)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = str((tracker.latest_message or {}).get("text") or "")
        helpful = self.deps.feedback.record(tracker.sender_id, text)
        self.say(dispatcher, "feedback_thanks" if helpful or helpful is None else "feedback_sorry")
        return []

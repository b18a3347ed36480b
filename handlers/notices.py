"""最近有什么通知: the latest notices sent to the resident or their community."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from communities import context
from handlers.base import BaseAction
from notices.recent import recent_for

BODY_CHARS = 120


class RecentNoticesAction(BaseAction):
    action_name = "action_recent_notices"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        notices = recent_for(self.deps.sessions, tracker.sender_id, context.current_id())
        if not notices:
            self.say(dispatcher, "notices_none")
            return []
        texts = self.deps.texts
        lines = [texts("notices_recent_intro")]
        for number, notice in enumerate(notices, 1):
            sent = (notice.sent_at or notice.created_at).astimezone()
            body = notice.body if len(notice.body) <= BODY_CHARS else \
                notice.body[:BODY_CHARS] + "…"
            lines.append(texts("notices_recent_item", number=number, title=notice.title,
                               date=sent.strftime("%m月%d日"), body=body))
        dispatcher.utter_message(text="\n".join(lines))
        return []

"""Moving a conversation between the bot and people; the console builds on this."""

from __future__ import annotations

import json
from typing import Any

import redis

from bot.state import ConversationState

EVENTS_CHANNEL = "wuye:console:events"


class Handover:
    """Queues conversations for an agent and announces it to every console process."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client

    def request(self, state: ConversationState, reason: str, message_id: int | None) -> None:
        if state.owner == "bot":
            state.owner = "waiting"
        self.publish({"type": "handover", "openid": state.openid, "reason": reason,
                      "message_id": message_id})

    def forward(self, state: ConversationState, message_id: int) -> None:
        """A message for the person who owns the conversation: the bot stays silent."""
        self.publish({"type": "message", "openid": state.openid, "message_id": message_id})

    def publish(self, event: dict[str, Any]) -> None:
        self.redis.publish(EVENTS_CHANNEL, json.dumps(event, ensure_ascii=False))

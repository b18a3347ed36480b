"""The rasa-sdk action executor answers for the resident's community, as the engine does."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.action_server import build_executor
from tests.communities.conftest import CUIHU, LANWAN


def emergency_call(openid: str) -> dict[str, Any]:
    latest = {"text": "电梯困人了", "intent": {"name": "emergency", "confidence": 0.99},
              "entities": [], "intent_ranking": []}
    return {"next_action": "action_emergency", "sender_id": openid, "version": "3.6.0",
            "domain": {}, "tracker": {
                "sender_id": openid, "slots": {}, "latest_message": latest,
                "events": [], "paused": False, "followup_action": None, "active_loop": {},
                "latest_action_name": "action_listen"}}


def test_emergency_over_the_executor_gives_each_communitys_phone(
        services: Any, two: dict[str, Any]) -> None:
    executor = build_executor(services.deps)

    def reply(openid: str) -> str:
        result = asyncio.run(executor.run(emergency_call(openid)))
        data = result.model_dump() if hasattr(result, "model_dump") else dict(result)
        return str(data["responses"][0]["text"])

    assert "0571-86661119" in reply(LANWAN)
    assert "0571-88886110" in reply(CUIHU)

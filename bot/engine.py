"""The dialogue engine: one inbound message in, the bot's replies out.

It understands the text (NLU), picks one action (emergency first, then an open
form, a pending FAQ menu, low confidence, else the intent's registered action),
runs it as a rasa-sdk Action with a Tracker built from the conversation state and
a CollectingDispatcher, and applies the events the action returns.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import policy
from bot.community_route import CommunityRoute, joined
from bot.handover import Handover
from bot.inbound import Inbound
from bot.menu import command_key, menu_choice, menu_decision
from bot.messages import MessageLog
from bot.replies import Reply
from bot.state import ConversationState, StateStore
from communities import context
from core.config import Config
from core.metrics import NLU_DECISIONS
from handlers.registry import Registry
from handlers.texts import Texts
from nlu.decision import Decision, Understander

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 5
MAX_TEXT_CHARS = 2000


class Engine:
    def __init__(self, config: Config, states: StateStore, messages: MessageLog,
                 nlu: Understander, registry: Registry, texts: Texts,
                 handover: Handover, community: CommunityRoute | None = None) -> None:
        self.config = config
        self.community = community
        self.states = states
        self.messages = messages
        self.nlu = nlu
        self.registry = registry
        self.texts = texts
        self.handover = handover

    def handle(self, inbound: Inbound, message_id: int) -> list[Reply]:
        """Process one stored inbound message; returns what to say (maybe nothing)."""
        resident = self.community.resolve(inbound.openid) if self.community else None
        with self.handover.turn(inbound.openid), context.serving(resident):
            state = self.states.load(inbound.openid)
            if inbound.is_event:
                replies = self.on_event(inbound, state)
            elif inbound.msg_type in ("text", "voice", "link") and inbound.text.strip():
                replies = self.on_text(inbound.text, state, message_id)
            else:
                replies = self.on_media(inbound, state, message_id)
            self.states.save(state)
        return replies

    # -- events -------------------------------------------------------------
    def on_event(self, inbound: Inbound, state: ConversationState) -> list[Reply]:
        if inbound.event in ("subscribe", "subscribe_scan"):  # welcome + 猜你想问 card
            asked = self.community.welcome(state) if self.community else None
            return asked or self.run(self.registry.get("action_welcome"), state,
                                     {"text": "", "intent": {}, "entities": [],
                                      "metadata": {}}, None)
        if inbound.event == "click":
            decision = menu_decision(inbound.event_key)
            if decision is None:
                return [Reply(text=self.texts("unsupported"))]
            return self.on_text(decision.text, state, None, menu=decision)
        return []  # unsubscribe, VIEW, SCAN, LOCATION: recorded, nothing to say

    # -- media --------------------------------------------------------------
    def on_media(self, inbound: Inbound, state: ConversationState,
                 message_id: int) -> list[Reply]:
        if state.owner != "bot":
            self.handover.forward(state, message_id)
            return []
        if inbound.msg_type == "voice":
            return [Reply(text=self.texts("voice_unrecognized"))]
        if inbound.msg_type == "image" and state.active_loop:
            return self.run_loop_with_media(inbound, state, message_id)
        if inbound.msg_type == "image":
            return [Reply(text=self.texts("image_received"))]
        if inbound.msg_type == "location":
            return [Reply(text=self.texts("location_received",
                                          label=inbound.fields.get("Label") or "位置"))]
        if inbound.msg_type in ("video", "shortvideo"):
            self.messages.finish(message_id, "processed", needs_agent=True)
            return [Reply(text=self.texts("video_received"))]
        return [Reply(text=self.texts("unsupported"))]

    def run_loop_with_media(self, inbound: Inbound, state: ConversationState,
                            message_id: int) -> list[Reply]:
        latest = {"text": "", "intent": {"name": "image", "confidence": 1.0}, "entities": [],
                  "metadata": {"image": {"url": inbound.fields.get("PicUrl"),
                                         "media_id": inbound.fields.get("MediaId"),
                                         "message_id": message_id}}}
        return self.run(self.registry.get(str(state.active_loop)), state, latest, message_id)

    # -- text ---------------------------------------------------------------
    def on_text(self, text: str, state: ConversationState, message_id: int | None,
                menu: Decision | None = None) -> list[Reply]:
        if len(text) > MAX_TEXT_CHARS:
            if message_id is not None:
                self.messages.finish(message_id, "processed", needs_agent=True)
            text = text[:MAX_TEXT_CHARS]
        decision = menu or self.understand(text)
        NLU_DECISIONS.labels(decision.intent).inc()
        if message_id is not None:
            self.messages.annotate(message_id, decision.to_dict(), state.conversation_id)
        if state.owner != "bot" and decision.intent != "emergency" and message_id is not None:
            self.handover.forward(state, message_id)
            return []
        if self.community is None:
            return self.answer(text, decision, state, message_id, menu)
        step = self.community.step(state, text, decision)
        if step.text is None:
            return step.replies
        with context.serving(step.community):
            if step.text != text:  # the question held while the community was asked
                text, decision = step.text, self.understand(step.text)
            return joined(step.replies, self.answer(text, decision, state, message_id, menu))

    def understand(self, text: str) -> Decision:
        """A bare keyword stands for its menu button; anything else goes to the NLU
        (without "I live in <community>", which the community route reads instead)."""
        command = command_key(text)
        if command:
            return menu_decision(command) or self.nlu.understand(text)
        if self.community is not None:
            text = self.community.directory.without_mentions(text)
        return self.nlu.understand(text)

    def answer(self, text: str, decision: Decision, state: ConversationState,
               message_id: int | None, menu: Decision | None = None) -> list[Reply]:
        """Run the action this understood message calls for."""
        # Anger, staying unsure after a clarification, or answering the rating question.
        triggered = policy.trigger(self.config, self.handover, text, decision, state)
        action = self.registry.get(triggered) if triggered else \
            self.pick_action(text, decision, state)
        latest = {
            "text": text,
            "intent": {"name": decision.intent, "confidence": decision.confidence},
            "entities": [{"entity": e.type, "value": e.value, "start": e.start, "end": e.end,
                          "normalized": e.normalized} for e in decision.entities],
            # A keyword (常见问题, 报修) means the same as tapping its button.
            "metadata": {"decision": decision.to_dict(),
                         "menu": menu is not None or command_key(text) is not None},
        }
        return self.run(action, state, latest, message_id)

    def pick_action(self, text: str, decision: Decision, state: ConversationState) -> Action:
        menu = state.slots.pop("faq_menu", None) or []
        if decision.intent == "emergency":
            return self.registry.for_intent("emergency")
        choice = menu_choice(text)
        if menu and choice is not None and 1 <= choice <= len(menu):
            state.slots["faq_choice"] = menu[choice - 1]
            return self.registry.get("action_faq")
        claimed = self.registry.claim(state.openid, text)  # e.g. rating a resolved ticket
        if claimed:
            return self.registry.get(claimed)
        if state.active_loop:
            return self.registry.get(state.active_loop)
        nlu = self.config.nlu
        unsure = decision.confidence < nlu.confidence_threshold or \
            decision.margin < nlu.margin_threshold
        if unsure:
            if decision.intent == "faq" or decision.candidates:
                return self.registry.get("action_faq")
            return self.registry.get("action_fallback")
        return self.registry.for_intent(decision.intent)

    # -- running actions ----------------------------------------------------
    def run(self, action: Action, state: ConversationState, latest: dict[str, Any],
            message_id: int | None) -> list[Reply]:
        replies: list[Reply] = []
        for _ in range(MAX_FOLLOWUPS):
            dispatcher = CollectingDispatcher()
            tracker = Tracker(
                sender_id=state.openid, slots=dict(state.slots), latest_message=latest,
                events=[], paused=False, followup_action=None,
                active_loop={"name": state.active_loop} if state.active_loop else {},
                latest_action_name=None,
            )
            events = _call(action, dispatcher, tracker)
            replies.extend(_to_replies(dispatcher.messages))
            followup = self.apply(events, state)
            if followup is None:
                break
            action = self.registry.get(followup)
        self.honour_control_slots(state, message_id)
        return replies

    @staticmethod
    def apply(events: list[dict[str, Any]], state: ConversationState) -> str | None:
        followup = None
        for event in events or []:
            kind = event.get("event")
            if kind == "slot":
                state.slots[event["name"]] = event.get("value")
            elif kind in ("active_loop", "form"):
                state.active_loop = event.get("name")
            elif kind == "reset_slots":
                state.slots.clear()
            elif kind == "followup":
                followup = event.get("name")
        state.slots = {k: v for k, v in state.slots.items() if v is not None}
        return followup

    def honour_control_slots(self, state: ConversationState, message_id: int | None) -> None:
        reason = state.slots.pop("handover", None)
        flagged = state.slots.pop("flag_for_agent", None)
        if message_id is not None and (flagged or reason):
            self.messages.finish(message_id, "processed", needs_agent=True)
        if reason:
            self.handover.request(state, str(reason), message_id)


def _call(action: Action, dispatcher: CollectingDispatcher,
          tracker: Tracker) -> list[dict[str, Any]]:
    result = action.run(dispatcher, tracker, {})
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return list(result or [])


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _to_replies(messages: list[dict[str, Any]]) -> list[Reply]:
    replies = []
    for message in messages:
        custom = message.get("custom") or message.get("json_message") or {}
        if isinstance(custom, dict) and custom.get("news"):
            replies.append(Reply("news", custom["news"][0].get("title", ""), custom["news"]))
        elif message.get("text"):
            text = message["text"]
            buttons = message.get("buttons") or []
            if buttons:
                text += "\n" + "\n".join(f"{i}. {b.get('title')}" for i, b in
                                         enumerate(buttons, 1))
            replies.append(Reply("text", text))
    return replies

"""The dialogue engine: one inbound message in, one TurnOutcome out.

It understands the text (NLU), asks the routing table (bot/routing.py) for one
action, runs it as a rasa-sdk Action with a Tracker built from the conversation
state and a CollectingDispatcher, applies the events and acts on the typed
control outcomes (handlers/outcomes.py) the action returns. The caller writes
the outcome to the message log once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.community_route import CommunityRoute, joined
from bot.handover import Handover, TurnHold
from bot.inbound import Inbound
from bot.menu import command_key, menu_decision
from bot.replies import Reply
from bot.routing import Choice, Turn, route
from bot.state import ConversationState, StateStore
from communities import context
from core.config import Config
from core.metrics import NLU_DECISIONS
from handlers.outcomes import (
    CancelHandover,
    FlagForAgent,
    HandOver,
    NotifyStaff,
    OfferFaqMenu,
    Outcome,
    WriteWithOutcome,
    split,
)
from handlers.registry import Registry
from handlers.texts import Texts
from handlers.tickets.service import TicketService
from nlu.decision import Decision, Understander

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 5
MAX_TEXT_CHARS = 2000
TEXT_TYPES = ("text", "voice", "link")
# Routes after which the "where is the emergency?" question is still open.
KEEPS_WHERE_QUESTION = ("emergency", "emergency_where", "anger", "asks_for_person")


@dataclass
class TurnOutcome:
    """Everything one turn produced, written once, in one transaction: replies, the NLU
    reading, the flag, the conversation state and the records actions keep."""

    replies: list[Reply] = field(default_factory=list)
    nlu: dict[str, Any] | None = None
    conversation_id: int | None = None
    needs_agent: bool = False
    route: str = ""
    state: ConversationState | None = None
    writes: list[Callable[[Session], None]] = field(default_factory=list)

    def marks(self) -> dict[str, Any]:
        """The inbound row's columns this turn sets (written once, by the gateway)."""
        values: dict[str, Any] = {"conversation_id": self.conversation_id}
        if self.nlu is not None:
            values["nlu"] = self.nlu
        if self.needs_agent:
            values["needs_agent"] = True
        return values


class Engine:
    def __init__(self, config: Config, states: StateStore, nlu: Understander,
                 registry: Registry, texts: Texts, handover: Handover,
                 tickets: TicketService, community: CommunityRoute | None = None) -> None:
        self.config = config
        self.community = community
        self.states = states
        self.nlu = nlu
        self.registry = registry
        self.texts = texts
        self.handover = handover
        self.tickets = tickets

    def hold(self, openid: str) -> TurnHold:
        """The conversation's turn lock: console ownership changes wait for the turn.
        The caller holds it across `handle` and the outcome's write."""
        return self.handover.hold(openid)

    def handle(self, inbound: Inbound, message_id: int | None) -> TurnOutcome:
        """Process one stored inbound message; the caller (holding `hold`) writes the
        outcome, the changed conversation state with it."""
        outcome = TurnOutcome()
        resident = self.community.resolve(inbound.openid) if self.community else None
        with context.serving(resident):  # texts and FAQs are the community's
            state = self.states.load(inbound.openid)
            if inbound.is_event:
                self.on_event(inbound, state, message_id, outcome)
            elif inbound.msg_type in TEXT_TYPES and inbound.text.strip():
                self.on_text(inbound.text, state, message_id, outcome)
            else:
                self.on_media(inbound, state, message_id, outcome)
        outcome.state = state
        outcome.conversation_id = state.conversation_id
        return outcome

    # -- events -------------------------------------------------------------
    def on_event(self, inbound: Inbound, state: ConversationState, message_id: int | None,
                 outcome: TurnOutcome) -> None:
        if inbound.event in ("subscribe", "subscribe_scan"):  # welcome + 猜你想问 card
            asked = self.community.welcome(state) if self.community else None
            if asked:
                outcome.replies.extend(asked)
            else:
                self.run(Choice("action_welcome"), state, _latest("", "", {}), None, outcome)
        elif inbound.event == "click":
            decision = menu_decision(inbound.event_key)
            if decision is None:
                outcome.replies.append(Reply(text=self.texts("unsupported")))
            else:
                self.on_text(decision.text, state, message_id, outcome, menu=decision)
        # unsubscribe, VIEW, SCAN, LOCATION: recorded, nothing to say

    # -- media --------------------------------------------------------------
    def on_media(self, inbound: Inbound, state: ConversationState, message_id: int | None,
                 outcome: TurnOutcome) -> None:
        if state.owner == "agent":
            self.forward(state, message_id, outcome)
            return
        kind = inbound.msg_type
        if kind in ("image", "video", "shortvideo"):
            self.keep_media(inbound, state, message_id)
        if kind == "image" and state.active_loop:
            self.run(Choice(state.active_loop, {"image": self.media_of(inbound, message_id)}),
                     state, _latest("", "image", {}), message_id, outcome)
            return
        key = {"voice": "voice_unrecognized", "image": "image_received",
               "location": "location_received", "video": "video_received",
               "shortvideo": "video_received", "file": "file_received",
               "miniprogrampage": "miniprogram_received"}.get(kind, "unsupported")
        if kind in ("video", "shortvideo", "file", "miniprogrampage") or key == "unsupported":
            outcome.needs_agent = True
        label = inbound.fields.get("Label") or inbound.fields.get("Title") or "位置"
        outcome.replies.append(Reply(text=self.texts(key, label=label)))

    @staticmethod
    def media_of(inbound: Inbound, message_id: int | None) -> dict[str, Any]:
        return {"url": inbound.fields.get("PicUrl"), "media_id": inbound.fields.get("MediaId"),
                "kind": inbound.msg_type, "message_id": message_id,
                "at": inbound.create_time or time.time()}

    def keep_media(self, inbound: Inbound, state: ConversationState,
                   message_id: int | None) -> None:
        """Media sent before a form starts are attached to the next form (nothing lost)."""
        if state.active_loop:
            return
        recent = list(state.slots.get("recent_media") or [])[-4:]
        state.slots["recent_media"] = [*recent, self.media_of(inbound, message_id)]

    # -- text ---------------------------------------------------------------
    def on_text(self, text: str, state: ConversationState, message_id: int | None,
                outcome: TurnOutcome, menu: Decision | None = None) -> None:
        if len(text) > MAX_TEXT_CHARS:
            outcome.needs_agent = True
            text = text[:MAX_TEXT_CHARS]
        decision = menu or self.understand(text)
        NLU_DECISIONS.labels(decision.intent).inc()
        outcome.nlu = decision.to_dict()
        if state.owner == "agent" and decision.intent != "emergency":
            self.forward(state, message_id, outcome)
            return
        if self.community is None:
            self.answer(text, decision, state, message_id, outcome, menu)
            return
        # Before the routing table: an unbound resident is asked for the community (issue 13).
        step = self.community.step(state, text, decision, context.current())
        if step.text is None:
            outcome.replies.extend(step.replies)
            return
        with context.serving(step.community):
            if step.text != text:  # the question held while the community was asked
                text, decision = step.text, self.understand(step.text)
            self.answer(text, decision, state, message_id, outcome, menu)
        outcome.replies = joined(step.replies, outcome.replies)

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
               message_id: int | None, outcome: TurnOutcome, menu: Decision | None) -> None:
        """Ask the routing table for the action and run it."""
        turn = Turn(text=text, decision=decision, state=state,
                    rating_pending=lambda: self.rating_pending(state.openid),
                    feedback_pending=lambda: self.feedback_pending(state.openid, text),
                    anger_exclamations=self.config.handoff.anger_exclamations,
                    from_menu=menu is not None, not_emergency=self.tickets.rules.not_emergency)
        choice = route(turn)
        outcome.route = choice.route
        if "conversation_rating" in choice.args:
            self.handover.take_pending_rating(state.openid)  # asked once, answered once
        if choice.route not in KEEPS_WHERE_QUESTION:
            state.slots.pop("emergency_where", None)  # asked once; other talk moved on
        menu_before = state.slots.pop("faq_menu", None)
        if choice.route == "open_form" and menu_before:
            state.slots["faq_menu"] = menu_before  # a digression keeps the menu one more turn
        self.run(choice, state, _latest(text, decision.intent, {
            # A keyword (常见问题, 报修) means the same as tapping its button.
            "decision": decision.to_dict(),
            "menu": menu is not None or command_key(text) is not None}, decision),
            message_id, outcome)

    def feedback_pending(self, openid: str, text: str) -> bool:
        """The resident answers "did this answer help?" (knowledge_loop.feedback)."""
        return bool(self.registry.get("action_answer_feedback").claims(  # type: ignore[attr-defined]
            openid, text))

    def rating_pending(self, openid: str) -> dict[str, Any] | None:
        """What a rating would answer now: the agent's closing question, else a ticket."""
        rating_id = self.handover.pending_rating(openid)
        if rating_id is not None:
            return {"conversation_rating": rating_id}
        ticket = self.tickets.awaiting_rating(openid)
        return {"ticket": ticket.number} if ticket is not None else None

    def forward(self, state: ConversationState, message_id: int | None,
                outcome: TurnOutcome) -> None:
        """An agent owns the conversation: the bot steps back, unless the agent is silent."""
        if message_id is not None:
            self.handover.forward(state, message_id)
        if self.handover.remind_if_silent(state):
            outcome.replies.append(Reply(text=self.texts("agent_busy_ack")))

    # -- running actions ----------------------------------------------------
    def run(self, choice: Choice, state: ConversationState, latest: dict[str, Any],
            message_id: int | None, outcome: TurnOutcome) -> None:
        latest["metadata"] = {**latest.get("metadata", {}), "route": choice.args}
        action = self.registry.get(choice.action)
        for _ in range(MAX_FOLLOWUPS):
            dispatcher = CollectingDispatcher()
            tracker = Tracker(
                sender_id=state.openid, slots=dict(state.slots), latest_message=latest,
                events=[], paused=False, followup_action=None,
                active_loop={"name": state.active_loop} if state.active_loop else {},
                latest_action_name=None,
            )
            events, controls = split(_call(action, dispatcher, tracker))
            outcome.replies.extend(_to_replies(dispatcher.messages))
            followup = self.apply(events, state)
            self.control(controls, state, message_id, outcome)
            if followup is None:
                break
            action = self.registry.get(followup)
            latest["metadata"]["route"] = {}

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

    def control(self, controls: list[Outcome], state: ConversationState,
                message_id: int | None, outcome: TurnOutcome) -> None:
        """Act on what the action asked of the engine."""
        for item in controls:
            if isinstance(item, HandOver):
                outcome.needs_agent = True
                self.handover.request(state, item.reason, message_id)
            elif isinstance(item, CancelHandover):
                self.handover.cancel(state)
            elif isinstance(item, FlagForAgent):
                outcome.needs_agent = True
            elif isinstance(item, OfferFaqMenu):
                state.slots["faq_menu"] = list(item.faq_ids)
            elif isinstance(item, NotifyStaff):
                self.handover.publish({"type": item.kind, "openid": state.openid,
                                       "message_id": message_id, **item.data})
            elif isinstance(item, WriteWithOutcome):
                outcome.writes.append(item.write)


def _latest(text: str, intent: str, metadata: dict[str, Any],
            decision: Decision | None = None) -> dict[str, Any]:
    entities = [{"entity": e.type, "value": e.value, "start": e.start, "end": e.end,
                 "normalized": e.normalized} for e in (decision.entities if decision else [])]
    return {"text": text, "entities": entities, "metadata": metadata,
            "intent": {"name": intent, "confidence": decision.confidence if decision else 1.0}}


_loops = threading.local()


def _call(action: Action, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[Any]:
    result = action.run(dispatcher, tracker, {})
    if inspect.isawaitable(result):
        result = _event_loop().run_until_complete(_await(result))
    return list(result or [])


def _event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop for rasa-sdk's async actions: made once, not per action
    (asyncio.run builds and tears down a loop each time, a sizeable share of a turn)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop


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

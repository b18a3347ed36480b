"""The one ordered routing table: which action answers this message.

Like python-telegram-bot's handler groups: each route is a small check that
returns a Choice (an action and its arguments) or None, and the first route that
chooses wins. The order is the policy; each route's docstring says why it sits
where it does. Nothing here changes state: routes only look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.menu import menu_choice, request_intent
from bot.state import ConversationState
from handlers import phrases
from handlers.intents import action_for
from handlers.ratings import read_rating
from handlers.tickets.emergency import answers_where
from nlu.decision import Decision

# Request intents that open a form; another one while a form is open asks what to do.
FORM_INTENTS = ("repair", "complaint", "suggestion", "service_request")


@dataclass(frozen=True)
class Turn:
    """What the routes look at: the message, its decision, the conversation, and facts
    that cost a lookup (asked only by the route that needs them)."""

    text: str
    decision: Decision
    state: ConversationState
    # What a rating would answer: {"conversation_rating": id} or {"ticket": number}.
    rating_pending: Callable[[], dict[str, Any] | None] = lambda: None
    # Whether the message answers "did this answer help?" asked right before.
    feedback_pending: Callable[[], bool] = lambda: False
    anger_exclamations: int = 3
    from_menu: bool = False
    # Why a message that reads like an emergency is none (dispatch_rules.yaml), or None.
    not_emergency: Callable[[str], str | None] = lambda text: None

    @property
    def waiting(self) -> bool:
        return self.state.owner == "waiting"


@dataclass(frozen=True)
class Choice:
    action: str
    args: dict[str, Any] = field(default_factory=dict)
    route: str = ""


Route = Callable[[Turn], "Choice | None"]


def pending_rating(turn: Turn) -> Choice | None:
    """First: a rating answers the question we asked last ("5" is no menu choice then)."""
    if read_rating(turn.text) is None:
        return None
    pending = turn.rating_pending()
    return Choice("action_rating", pending) if pending else None


def calm_emergency(turn: Turn) -> Choice | None:
    """Danger words with nobody in danger (电梯停了，里面没人): a repair, before emergency."""
    if turn.decision.intent == "emergency" and turn.not_emergency(turn.text):
        return Choice(turn.state.active_loop or action_for("repair"))
    return None


SHORT_ANSWER = 10  # characters: an open form's answer (在7栋楼梯间), not a new story
# Below this, a short answer to an open form read as an emergency stays with the form.
FORM_ANSWER_MAX_EMERGENCY_CONFIDENCE = 0.75
# Intents a frightened resident's next words get read as; after an emergency they are
# about the emergency (怎么办啊, 快点).
VAGUE_AFTER_EMERGENCY = ("out_of_scope", "greet", "goodbye")


def emergency(turn: Turn) -> Choice | None:
    """Danger goes before everything else the resident might also be doing; only a short
    answer to an open form's question that the NLU is unsure of stays with the form."""
    if turn.decision.intent != "emergency":
        return None
    # is_unsure() never holds for an emergency, so the confidence itself is read here: a
    # danger the NLU is sure of (its rules, a clear story) scores far above this.
    low = turn.decision.confidence < FORM_ANSWER_MAX_EMERGENCY_CONFIDENCE
    if turn.state.active_loop and low and \
            len(phrases.plain(turn.text)) <= SHORT_ANSWER and \
            not phrases.sounds_dangerous(turn.text):
        return None
    return Choice("action_emergency")


def emergency_where(turn: Turn) -> Choice | None:
    """The answer to "where is it?" asked after an emergency's advice (在11栋1单元的电梯里
    reads like the emergency again; the action sends a different danger on to emergency)."""
    if not turn.state.slots.get("emergency_where"):
        return None
    if answers_where(turn.text, {"text": turn.text}):
        return Choice("action_emergency_where")
    if turn.decision.is_unsure() or turn.decision.intent in VAGUE_AFTER_EMERGENCY:
        return Choice("action_emergency_where", {"remind": True})  # 怎么办啊: still the danger
    return None


def cancel_person(turn: Turn) -> Choice | None:
    """取消人工 while waiting: before "asks for a person", which shares words with it."""
    return Choice("action_cancel_handover") if turn.waiting and \
        phrases.cancels_person(turn.text) else None


def anger(turn: Turn) -> Choice | None:
    """An angry resident gets a person and the complaint recorded, even mid-form."""
    if phrases.is_angry(turn.text, turn.anger_exclamations):
        return Choice("action_anger")
    return None


def asks_for_person(turn: Turn) -> Choice | None:
    """转人工 wins over an open form; asked again while waiting, it gets the queue status."""
    decision = turn.decision
    if phrases.urges(turn.text):
        return None  # 怎么还没人来: about a ticket (follow_up), not a wish for a person
    asked = phrases.asks_for_person(turn.text) or (
        decision.intent == "human" and not decision.is_unsure())
    if turn.waiting and (asked or phrases.asks_wait_status(turn.text)):
        return Choice("action_waiting_status")
    return Choice("action_human") if asked else None


# Communities (issue 13) come before this table: Engine.on_text runs the community step
# (bot/community_route.py), which may ask an unbound resident for the community and hold
# the question until it is answered; the table then routes that question.


def faq_menu_choice(turn: Turn) -> Choice | None:
    """A number right after a numbered menu picks from it (before a form reads "2")."""
    menu = turn.state.slots.get("faq_menu") or []
    choice = menu_choice(turn.text)
    if menu and choice is not None and 1 <= choice <= len(menu):
        return Choice("action_faq", {"faq_choice": menu[choice - 1]})
    return None


def open_form(turn: Turn) -> Choice | None:
    """An open form reads every other message (it handles digressions and switches)."""
    return Choice(turn.state.active_loop) if turn.state.active_loop else None


def resume_form(turn: Turn) -> Choice | None:
    """继续: a form kept for later comes back."""
    if turn.state.slots.get("parked_forms") and phrases.wants_resume(turn.text):
        return Choice("action_resume_form")
    return None


def follow_up(turn: Turn) -> Choice | None:
    """催单 or a ticket number: about a ticket we hold, even with a form open (the NLU may
    read 催一下FW… as a new booking)."""
    number = phrases.ticket_number(turn.text)
    decision = turn.decision
    question = decision.intent == "faq" and not decision.is_unsure() and "催" not in turn.text
    if phrases.urges(turn.text) and not question:  # 快递怎么还没来 is the FAQ's
        return Choice("action_urge", {"number": number})
    if number:
        return Choice("action_ticket_status", {"number": number})
    return None


def reopen(turn: Turn) -> Choice | None:
    """不满意，楼下还在滴水: finished work that is not right; after an open form, where
    the same words may describe the fault being reported."""
    if phrases.unhappy(turn.text) and turn.decision.intent != "faq":
        return Choice("action_reopen", {"number": phrases.ticket_number(turn.text)})
    return None


def capabilities(turn: Turn) -> Choice | None:
    """你能做什么 / 你是真人吗: about us (the NLU may call it out of scope or a wish for a
    person), so before asking for a person."""
    return Choice("action_capabilities") if phrases.asks_capabilities(turn.text) else None


def explicit_request(turn: Turn) -> Choice | None:
    """我要报修电梯 read as a question: the opening request word decides."""
    decision = turn.decision
    if not (decision.is_unsure() or decision.intent in ("faq", "out_of_scope", "greet")):
        return None
    intent = request_intent(turn.text)
    return Choice(action_for(intent)) if intent else None


def unsure(turn: Turn) -> Choice | None:
    """Unsure of the intent: offer FAQ candidates, else ask to rephrase."""
    decision = turn.decision
    if turn.from_menu or not decision.is_unsure() or decision.faq_id:
        return None
    if decision.intent == "faq" or decision.candidates:
        return Choice("action_faq")
    return Choice("action_fallback")


def answer_feedback(turn: Turn) -> Choice | None:
    """The reply to "did this answer help?" (only the very next message counts), after a
    pending rating, before anything reads the digit as something else."""
    return Choice("action_answer_feedback") if turn.feedback_pending() else None


def by_intent(turn: Turn) -> Choice:
    """Last: the action registered for the intent (a fault report that names a home is a
    repair, though the NLU may read the home as a wish to bind it)."""
    intent = turn.decision.intent
    if intent == "bind_house" and phrases.reports_fault_not_binding(turn.text):
        intent = "repair"
    return Choice(action_for(intent))


ROUTES: tuple[tuple[str, Route], ...] = (
    ("pending_rating", pending_rating),
    ("answer_feedback", answer_feedback),
    ("calm_emergency", calm_emergency),
    ("emergency_where", emergency_where),
    ("emergency", emergency),
    ("cancel_person", cancel_person),
    ("anger", anger),
    ("capabilities", capabilities),
    ("asks_for_person", asks_for_person),
    ("faq_menu_choice", faq_menu_choice),
    ("follow_up", follow_up),
    ("open_form", open_form),
    ("resume_form", resume_form),
    ("reopen", reopen),
    ("explicit_request", explicit_request),
    ("unsure", unsure),
    ("by_intent", by_intent),
)


def route(turn: Turn) -> Choice:
    """The first route that chooses; by_intent always does."""
    for name, check in ROUTES:
        choice = check(turn)
        if choice is not None:
            return replace(choice, route=name)
    raise AssertionError("by_intent always chooses")  # pragma: no cover

"""A question left unanswered: say what the message gave instead and what we expect.

Repeating a question word for word teaches the resident nothing. So the bot names
the slot it still needs with a format and an example, says so when the message was
only the form's own request again (报修 while the repair form is open), and after
MAX_TRIES offers a person or cancelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

from handlers.base import decision_of
from handlers.texts import Texts
from handlers.tickets.extract import plain, text_of
from handlers.tickets.forms import FormSpec, words

MAX_TRIES = 3


@dataclass(frozen=True)
class Unanswered:
    """One turn after which the requested slot is still empty."""

    slot: str
    tries: int
    recorded: bool = False  # the message filled other slots (acknowledged already)
    same_request: bool = False
    explained: bool = False  # a validator already said what was wrong


def bare_request(spec: FormSpec, text: str) -> bool:
    """Nothing but the form's own request again (报修, 我还要报修): it answers no question."""
    rest = plain(text)
    if not any(word in rest for word in spec.requests):
        return False
    for word in sorted([*spec.requests, *words("filler"), *words("particles")],
                       key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest == ""


def same_request(spec: FormSpec, tracker: Tracker, threshold: float) -> bool:
    """The message asks again for what the form is doing, bare or as the NLU reads it."""
    if bare_request(spec, text_of(tracker.latest_message or {})):
        return True
    decision = decision_of(tracker)
    return decision is not None and spec.intent is not None and \
        decision.intent == spec.intent and decision.confidence >= threshold


def hint(texts: Texts, form: str, slot: str) -> str:
    """What an answer looks like: the form's own hint for the slot, else the shared one."""
    name = f"hint_{form}_{slot}"
    return texts(name if name in texts.table else f"hint_{slot}")


def reask_lines(texts: Texts, form: str, turn: Unanswered) -> list[str]:
    """The reply to a turn that left the question open, never the bare question again."""
    label = texts(f"label_{turn.slot}")
    lines = [texts(f"form_in_progress_{form}")] if turn.same_request else []
    if turn.recorded or turn.same_request:
        lines.append(texts("still_need", label=label, hint=hint(texts, form, turn.slot)))
    elif not turn.explained:
        lines.append(texts("slot_not_understood", label=label,
                           hint=hint(texts, form, turn.slot)))
    if turn.tries >= MAX_TRIES:
        lines.append(texts("form_stuck"))
    return lines

"""Typed control outcomes: what an action asks of the engine besides its replies.

Actions return plain rasa-sdk events (slots, the active form, a follow-up) and,
in the same list, these small values. The engine acts on them (bot/engine.py);
no handler touches ownership, the message log or the consoles itself, and no
control travels in a slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class HandOver:
    """Queue the conversation for a person; `reason` is stored on the handover record."""

    reason: str


@dataclass(frozen=True)
class CancelHandover:
    """The resident no longer wants a person (取消人工): the bot keeps the conversation."""


@dataclass(frozen=True)
class FlagForAgent:
    """This message needs a person's eyes (stored with needs_agent), without a handover."""

    why: str = ""


@dataclass(frozen=True)
class OfferFaqMenu:
    """A numbered menu of FAQ entries; the resident's next number picks one."""

    faq_ids: tuple[str, ...]


@dataclass(frozen=True)
class AskRating:
    """The next message may rate this ticket (after a reopen, a fresh resolution...)."""

    ticket_number: str


@dataclass(frozen=True)
class NotifyStaff:
    """Tell staff at once (the consoles' event stream): an urge, a complaint, a reminder."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteWithOutcome:
    """A record the turn keeps (an FAQ answer's log line), written in the transaction
    that stores the turn's replies and state: never without them, never twice."""

    write: Callable[[Session], None]


Outcome = (HandOver | CancelHandover | FlagForAgent | OfferFaqMenu | AskRating | NotifyStaff
           | WriteWithOutcome)
OUTCOME_TYPES = (HandOver, CancelHandover, FlagForAgent, OfferFaqMenu, AskRating, NotifyStaff,
                 WriteWithOutcome)


def split(events: list[Any]) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Separate rasa-sdk events from control outcomes in what an action returned."""
    plain = [e for e in events if not isinstance(e, OUTCOME_TYPES)]
    outcomes = [e for e in events if isinstance(e, OUTCOME_TYPES)]
    return plain, outcomes


def as_rasa_events(events: list[Any]) -> list[dict[str, Any]]:
    """For a Rasa assistant (the action server): outcomes become no events; Rasa's own
    policies decide hand-overs there."""
    return split(events)[0]

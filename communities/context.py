"""The community a turn is answered for, like Flask's `g`: set once at the edge of a turn.

The engine sets it for each message from the resident's community; staff actions
that speak to one resident (a ticket notice) set it for that resident. Reply texts
(handlers.texts.Texts), opening hours and the records a turn writes (tickets,
handovers, bindings) read it instead of every call passing it down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from communities.directory import CommunityInfo

_current: ContextVar[CommunityInfo | None] = ContextVar("community", default=None)


def current() -> CommunityInfo | None:
    """The community of the turn in progress, if one is known."""
    return _current.get()


def current_id() -> int | None:
    found = _current.get()
    return found.id if found is not None else None


@contextmanager
def serving(community: CommunityInfo | None) -> Iterator[CommunityInfo | None]:
    """Answer everything inside for this community (None: company defaults)."""
    token = _current.set(community)
    try:
        yield community
    finally:
        _current.reset(token)

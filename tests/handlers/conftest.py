"""Fixtures for ticket flows: the demo roster and bills loaded, a bound resident."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.tickets.demo import load_demo_households
from handlers.tickets.households import Households
from handlers.tickets.rooms import parse_room

BOUND = "o_bound_resident"


@pytest.fixture()
def households(services: Any) -> Households:
    """The demo roster and bills imported into the app's database."""
    load_demo_households(services.sessions)
    return Households(services.sessions)


@pytest.fixture()
def bound(households: Households) -> str:
    """An openid already bound to 3栋2单元502 (roster phone 13800138000)."""
    room = parse_room("3栋2单元502")
    assert room is not None
    households.bind(BOUND, room, households.verify(room, "8000"))
    return BOUND

"""Demo households for `wuye serve --demo`: a small roster and bills for 翠湖花园."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from handlers.tickets.households import import_bills, import_roster
from handlers.tickets.rules import DATA_DIR


def load_demo_households(sessions: sessionmaker[Session],
                         community_id: int | None = None) -> tuple[int, int]:
    """Import the demo roster and bills into the first community (or the one given;
    idempotent); returns (roster lines, bill lines)."""
    return (import_roster(sessions, DATA_DIR / "demo_roster.csv", community_id),
            import_bills(sessions, DATA_DIR / "demo_bills.csv", community_id))

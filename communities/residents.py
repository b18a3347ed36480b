"""Which community a resident is served in: their bound home's, else the one they chose.

A resident bound to homes in one community is in it. One with homes in two is in
the one they last chose (切换小区), else their first home's. An unbound resident is
in the community they named or picked, remembered on their resident row; with
only one community there is nothing to ask.
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from communities.directory import Communities, CommunityInfo
from core.db import reading, transaction, utcnow
from core.models import Resident, RoomBinding

_WHEREABOUTS = union_all(  # built once: it runs for every push
    select(RoomBinding.community_id, RoomBinding.id.label("n"), literal(0).label("kind"))
    .where(RoomBinding.openid == bindparam("openid")),
    select(Resident.community_id, literal(0).label("n"), literal(1).label("kind"))
    .where(Resident.openid == bindparam("openid")),
).order_by("kind", "n")


class ResidentCommunities:
    """Reads and remembers residents' communities."""

    def __init__(self, sessions: sessionmaker[Session], directory: Communities | None = None):
        self.sessions = sessions
        self.directory = directory or Communities(sessions)

    def home_ids(self, openid: str) -> list[int]:
        """Communities of the resident's bound homes, first bound first, each once."""
        return self.whereabouts(openid)[0]

    def whereabouts(self, openid: str) -> tuple[list[int], int | None]:
        """(the homes' communities, first bound first; the one remembered), in one query:
        it runs for every push."""
        with reading(self.sessions) as session:
            rows = session.execute(_WHEREABOUTS, {"openid": openid}).all()
        ids = [row[0] for row in rows if row[2] == 0]
        remembered = next((row[0] for row in rows if row[2] == 1), None)
        return list(dict.fromkeys(ids)), remembered

    def resolve(self, openid: str, remember: bool = False) -> CommunityInfo | None:
        """The resident's community now, or None when it must be asked; `remember`
        keeps a home's community on the resident row (what per-community KPIs count by).
        The only community of a one-community install is not remembered: when a second
        one is added, an unbound resident is asked."""
        homes, chosen = self.whereabouts(openid)
        found: CommunityInfo | None
        if homes:
            found = self.directory.get(chosen if chosen in homes else homes[0])
        elif chosen is not None:
            found = self.directory.get(chosen)
        else:
            active = self.directory.list(active_only=True)
            found = active[0] if len(active) == 1 else None
        if remember and homes and found is not None and found.id != chosen:
            self.remember(openid, found.id)
        return found

    def remember(self, openid: str, community_id: int) -> None:
        """Keep the resident's choice (the resident row is made if the push had none yet)."""
        with transaction(self.sessions) as session:
            row = session.get(Resident, openid)
            if row is None:
                now = utcnow()
                row = Resident(openid=openid, first_seen=now, last_seen=now)
                session.add(row)
            row.community_id = community_id

"""Which communities a console user serves: none listed means the whole company.

Agents, department staff and admins may be scoped to some communities; the queue,
the conversations they may open, ticket listings and KPIs are limited to those.
A user with no row here (a company admin, a company-wide agent) sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import Community, StaffCommunity

# None: every community (no restriction).
Scope = frozenset[int] | None


def allows(scope: Scope, community_id: int | None) -> bool:
    """May someone with this scope see a record of this community?

    A record whose community is not known yet (an unbound resident who has not
    said) is for company-wide staff only."""
    return scope is None or (community_id is not None and community_id in scope)


class StaffScopes:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def of(self, user_id: int) -> Scope:
        with self.sessions() as session:
            ids = session.scalars(select(StaffCommunity.community_id).where(
                StaffCommunity.user_id == user_id)).all()
        return frozenset(ids) if ids else None

    def codes_of(self, user_id: int) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(
                select(Community.code).join(StaffCommunity,
                                            StaffCommunity.community_id == Community.id)
                .where(StaffCommunity.user_id == user_id).order_by(Community.id)))

    def set(self, user_id: int, community_ids: Iterable[int]) -> None:
        """Replace the user's communities (an empty list: the whole company)."""
        with transaction(self.sessions) as session:
            session.execute(delete(StaffCommunity).where(StaffCommunity.user_id == user_id))
            for community_id in dict.fromkeys(community_ids):
                session.add(StaffCommunity(user_id=user_id, community_id=community_id))

"""A resident left unanswered by a silent agent is acknowledged by the worker too.

The engine acknowledges and reminds when the resident writes again while the owning
agent has been silent (Engine.forward). A resident who wrote once and then waits
would hear nothing; this scheduled job finds those conversations and does the same:
one acknowledgement through the outbox and one console reminder per silence period
(the same Redis key as the engine's, so the two never both fire).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.handover import Handover
from bot.notify import Notifier
from communities import context
from communities.directory import CommunityInfo
from core.db import utcnow
from core.models import Conversation, Message

log = logging.getLogger(__name__)

BATCH = 200


class SilenceWatch:
    def __init__(self, sessions: sessionmaker[Session], handover: Handover, notifier: Notifier,
                 ack_text: Callable[[], str],
                 community_of: Callable[[str], CommunityInfo | None]) -> None:
        self.sessions = sessions
        self.handover = handover
        self.notifier = notifier
        self.ack_text = ack_text
        self.community_of = community_of

    def tick(self, now: datetime | None = None) -> int:
        """Acknowledge every resident whose message an owning agent left unanswered too long."""
        now = now or utcnow()
        silence = timedelta(seconds=self.handover.config.handoff.agent_silence_seconds)
        acknowledged = 0
        for openid, agent_id, waiting_since in self.unanswered(now - silence):
            if not self.handover.claim_reminder(openid, silence):
                continue
            self.handover.publish({"type": "reminder", "openid": openid, "agent_id": agent_id,
                                   "silent_seconds": int((now - waiting_since).total_seconds())})
            with context.serving(self.community_of(openid)):
                self.notifier.notify(openid, self.ack_text())
            acknowledged += 1
        if acknowledged:
            log.info("acknowledged %s residents waiting on a silent agent", acknowledged)
        return acknowledged

    def unanswered(self, older_than: datetime) -> list[tuple[str, int | None, datetime]]:
        """Agent-owned conversations whose latest inbound message has no agent reply after it
        and is older than `older_than`: (openid, agent id, time of that message)."""
        last_in = (select(Message.openid, func.max(Message.created_at).label("at"))
                   .where(Message.direction == "in").group_by(Message.openid).subquery())
        last_agent = (select(Message.openid, func.max(Message.created_at).label("at"))
                      .where(Message.direction == "out", Message.sender == "agent")
                      .group_by(Message.openid).subquery())
        query = (select(Conversation.openid, Conversation.agent_id, last_in.c.at)
                 .join(last_in, last_in.c.openid == Conversation.openid)
                 .outerjoin(last_agent, last_agent.c.openid == Conversation.openid)
                 .where(Conversation.owner == "agent", Conversation.closed_at.is_(None),
                        last_in.c.at <= older_than,
                        (last_agent.c.at.is_(None)) | (last_agent.c.at < last_in.c.at))
                 .limit(BATCH))
        with self.sessions() as session:
            rows = session.execute(query).all()
        return [(openid, agent_id, _aware(at)) for openid, agent_id, at in rows]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.handover import Handover
from bot.notify import Notifier
from communities import context
from communities.directory import CommunityInfo
from core.db import aware, reading, utcnow
from core.models import Conversation, Message
from core.schedule import Every

log = logging.getLogger(__name__)

BATCH = 200
CHECK_SECONDS = 15.0


class SilenceWatch:
    def __init__(self, sessions: sessionmaker[Session], handover: Handover, notifier: Notifier,
                 ack_text: Callable[[], str],
                 community_of: Callable[[str], CommunityInfo | None]) -> None:
        self.sessions = sessions
        self.handover = handover
        self.notifier = notifier
        self.ack_text = ack_text
        self.community_of = community_of
        silence = self.handover.config.handoff.agent_silence_seconds
        self.every = Every(min(silence / 10, CHECK_SECONDS))

    def tick(self) -> int:
        """Look if due (called from the worker loop every poll): a tenth of the silence
        period, at most every CHECK_SECONDS, is early enough to notice a silence."""
        return self.run_once() if self.every.due() else 0

    def run_once(self, now: datetime | None = None) -> int:
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
        and is older than `older_than`: (openid, agent id, time of that message).

        It starts from the few conversations agents own and reads only their residents'
        messages (by the openid index), never the whole message log."""
        def latest(*where: Any) -> Any:
            return (select(func.max(Message.created_at))
                    .where(Message.openid == Conversation.openid, *where).scalar_subquery())

        owned = (select(Conversation.openid, Conversation.agent_id,
                        latest(Message.direction == "in").label("last_in"),
                        latest(Message.direction == "out", Message.sender == "agent")
                        .label("last_agent"))
                 .where(Conversation.owner == "agent", Conversation.closed_at.is_(None))
                 .subquery())
        query = (select(owned.c.openid, owned.c.agent_id, owned.c.last_in)
                 .where(owned.c.last_in <= older_than,
                        owned.c.last_agent.is_(None) | (owned.c.last_agent < owned.c.last_in))
                 .limit(BATCH))
        with reading(self.sessions) as session:
            rows = session.execute(query).all()
        return [(openid, agent_id, aware(at)) for openid, agent_id, at in rows]


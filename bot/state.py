"""Per-openid conversation state: fast in Redis (with TTL), durable in the database.

Redis is the working copy; every save also writes the conversation row, so a
flushed or restarted Redis loses nothing: the next load rebuilds from the row.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models import Conversation, Resident

log = logging.getLogger(__name__)

# Built once: a push writes its conversation's state every turn.
_CONVERSATIONS = Conversation.__table__
_UPDATE_OPEN = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("open_id"),
                                            _CONVERSATIONS.c.closed_at.is_(None))
_INSERT = insert(_CONVERSATIONS).returning(_CONVERSATIONS.c.id)

OWNERS = ("bot", "waiting", "agent")


@dataclass
class ConversationState:
    openid: str
    conversation_id: int | None = None
    owner: str = "bot"  # bot | waiting | agent
    agent_id: int | None = None
    active_loop: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)

    @property
    def handover(self) -> str | None:
        """What `wuye inspect` shows: None while the bot owns the conversation."""
        return None if self.owner == "bot" else self.owner


class StateStore:
    def __init__(self, redis_client: redis.Redis, sessions: sessionmaker[Session],
                 ttl_seconds: int) -> None:
        self.redis = redis_client
        self.sessions = sessions
        self.ttl = ttl_seconds

    @staticmethod
    def key(openid: str) -> str:
        return f"wuye:conv:{openid}"

    def load(self, openid: str) -> ConversationState:
        cached = self.redis.get(self.key(openid))
        if cached:
            return ConversationState(**json.loads(cached))
        return self._load_from_db(openid)

    def _load_from_db(self, openid: str) -> ConversationState:
        with self.sessions() as session:
            row = session.scalars(
                select(Conversation)
                .where(Conversation.openid == openid, Conversation.closed_at.is_(None))
                .order_by(Conversation.id.desc()).limit(1)
            ).first()
        if row is None:
            return ConversationState(openid=openid)
        state = dict(row.state or {})
        return ConversationState(
            openid=openid,
            conversation_id=row.id,
            owner=row.owner,
            agent_id=row.agent_id,
            active_loop=state.get("active_loop"),
            slots=dict(state.get("slots") or {}),
        )

    def save(self, state: ConversationState) -> ConversationState:
        """Write through: database row first (durable), then the Redis copy."""
        with transaction(self.sessions) as session:
            if state.conversation_id is None and session.get(Resident, state.openid) is None:
                session.add(Resident(openid=state.openid))  # a push stores it; a console may not
                session.flush()
            self.persist(session, state)
        self.cache(state)
        return state

    def persist(self, session: Session, state: ConversationState) -> int:
        """Write the state on its open conversation row (a new row when there is none or
        it was closed) in the caller's transaction; returns the conversation's id. The
        resident's row must exist (a push stores it first). The caller holds the
        conversation's turn lock and calls `cache` after commit."""
        values = {"owner": state.owner, "agent_id": state.agent_id,
                  "state": {"active_loop": state.active_loop, "slots": state.slots},
                  "last_message_at": utcnow()}
        if state.conversation_id is not None:
            updated = session.execute(_UPDATE_OPEN, {**values, "open_id": state.conversation_id})
            if updated.rowcount == 1:  # type: ignore[attr-defined]
                return state.conversation_id
        state.conversation_id = int(session.execute(
            _INSERT, {**values, "openid": state.openid}).scalar_one())
        return state.conversation_id

    def cache(self, state: ConversationState) -> None:
        """The Redis working copy, after the row is committed. If Redis refuses it, the
        old copy must not survive: the next load then reads the row."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            self.cache_in(pipe, state)
            pipe.execute()
            return
        except redis.RedisError:
            log.warning("conversation state of a resident not cached in Redis")
        try:
            self.forget_cache(state.openid)
        except redis.RedisError:
            log.warning("stale conversation state left in Redis until it expires")

    def cache_in(self, pipe: Any, state: ConversationState) -> None:
        """Queue the Redis working copy's write into a pipeline (after the row commits)."""
        pipe.set(self.key(state.openid), json.dumps(asdict(state), ensure_ascii=False),
                 ex=self.ttl)

    def close(self, openid: str) -> None:
        """End the conversation; the resident's next message starts fresh with the bot."""
        state = self.load(openid)
        if state.conversation_id is not None:
            with transaction(self.sessions) as session:
                row = session.get(Conversation, state.conversation_id)
                if row is not None:
                    row.closed_at = utcnow()
                    row.owner = "bot"
        self.redis.delete(self.key(openid))

    def forget_cache(self, openid: str) -> None:
        """Drop the Redis copy so the next load reads the database (another process wrote it)."""
        self.redis.delete(self.key(openid))

"""Per-openid conversation state: fast in Redis (with TTL), durable in the database.

Redis is the working copy; every save also writes the conversation row, so a
flushed or restarted Redis loses nothing: the next load rebuilds from the row.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models import Conversation, Resident

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
            row = self._row(session, state)
            row.owner = state.owner
            row.agent_id = state.agent_id
            row.state = {"active_loop": state.active_loop, "slots": state.slots}
            row.last_message_at = utcnow()
            session.flush()
            state.conversation_id = row.id
        self.redis.set(self.key(state.openid), json.dumps(asdict(state), ensure_ascii=False),
                       ex=self.ttl)
        return state

    def _row(self, session: Session, state: ConversationState) -> Conversation:
        row = session.get(Conversation, state.conversation_id) if state.conversation_id else None
        if row is None or row.closed_at is not None:
            if session.get(Resident, state.openid) is None:
                session.add(Resident(openid=state.openid))
                session.flush()
            row = Conversation(openid=state.openid, owner=state.owner)
            session.add(row)
        return row

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

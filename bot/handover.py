"""Moving a conversation between the bot and people, and telling every console about it.

Ownership lives on the conversation row (durable) and its Redis working copy;
every change here goes through StateStore.save/close, which write both, so the
webhook process sees it on its next load. Each request for a person is also a
HandoverRecord row: queued, taken, first answered, ended — the KPIs' source.
Events go to one Redis pub/sub channel that every console stream subscribes to.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.state import ConversationState, StateStore
from communities import context
from communities.residents import ResidentCommunities
from core.config import Config
from core.db import aware, transaction, utcnow
from core.metrics import HANDOVERS
from core.models import Message, OutboxItem
from core.models.console import ConversationRating, HandoverRecord
from handlers.human import ServiceHours

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "wuye:console:events"
# One turn (a message through the engine, or an ownership change) per conversation at a time.
TURN_LOCK_SECONDS = 30
TURN_WAIT_SECONDS = 10
TURN_RETRY_SECONDS = 0.02


class HandoverError(Exception):
    """An ownership change that is not allowed now; `code` names why (shown in the console)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Deletes the lock only if it still holds this turn's token (it may have expired and
# been taken by another turn since).
_RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('del', KEYS[1]) end return 0")


class TurnHold:
    """A conversation's turn lock, held until released (from any thread): a push's turn
    holds it from loading the state until its outcome, state included, is committed and
    the state's Redis copy written (the release can share that round trip)."""

    def __init__(self, redis_client: redis.Redis, key: str, token: str | None) -> None:
        self._redis = redis_client
        self._key = key
        self._token = token  # None: going ahead without the lock

    def release_in(self, pipe: Any) -> None:
        """Queue the release into a pipeline the caller executes."""
        token, self._token = self._token, None
        if token is not None:
            pipe.eval(_RELEASE, 1, self._key, token)

    def release(self) -> None:
        """Let the next turn or console change in; idempotent, never raises."""
        token, self._token = self._token, None
        if token is None:
            return
        try:
            self._redis.eval(_RELEASE, 1, self._key, token)
        except RedisError:
            log.warning("conversation turn lock not released (Redis away); it expires")


class Handover:
    """Queues conversations for agents, moves ownership, and announces every change."""

    def __init__(self, redis_client: redis.Redis, states: StateStore,
                 sessions: sessionmaker[Session], config: Config) -> None:
        self.redis = redis_client
        self.states = states
        self.sessions = sessions
        self.config = config

    @contextmanager
    def turn(self, openid: str) -> Iterator[None]:
        """Serialize console ownership changes with the engine's turns (see `hold`)."""
        hold = self.hold(openid)
        try:
            yield
        finally:
            hold.release()

    def hold(self, openid: str) -> TurnHold:
        """Take the conversation's turn lock, so neither a turn nor a console change
        saves a state the other has just replaced. If the lock cannot be had in time
        the work goes ahead anyway: a reply matters more than the ordering."""
        key, token = f"wuye:turn:{openid}", uuid.uuid4().hex
        give_up = time.monotonic() + TURN_WAIT_SECONDS
        while not self.redis.set(key, token, nx=True, ex=TURN_LOCK_SECONDS):
            if time.monotonic() >= give_up:
                log.warning("conversation turn lock busy; going ahead without it")
                return TurnHold(self.redis, key, None)
            time.sleep(TURN_RETRY_SECONDS)
        return TurnHold(self.redis, key, token)

    # -- from the engine ------------------------------------------------------------
    def request(self, state: ConversationState, reason: str, message_id: int | None) -> None:
        """Queue for a person (once) and alert the consoles; emergencies always alert."""
        if state.owner == "bot":
            state.owner = "waiting"
            self._record_request(state, reason, message_id)
            HANDOVERS.labels(reason).inc()
        self.publish({"type": "handover", "openid": state.openid, "reason": reason,
                      "emergency": reason == "emergency", "message_id": message_id})

    def cancel(self, state: ConversationState) -> None:
        """取消人工 while waiting: the bot keeps the conversation; the request ends."""
        if state.owner != "waiting":
            return
        state.owner, state.agent_id = "bot", None
        if self.sessions is not None:
            self._end(state.openid, "cancelled")
        self.publish({"type": "cancelled", "openid": state.openid})

    def remind_if_silent(self, state: ConversationState) -> bool:
        """The owning agent has said nothing for agent_silence_seconds: remind the agent
        (once per period) and return True so the resident gets an acknowledgement."""
        if state.owner != "agent" or self.sessions is None:
            return False
        silence = timedelta(seconds=self.config.handoff.agent_silence_seconds)
        with self.sessions() as session:
            record = self._open_record(session, state.openid)
            if record is None:
                return False
            last = session.scalar(select(func.max(Message.created_at)).where(
                Message.openid == state.openid, Message.direction == "out",
                Message.sender == "agent"))
        since = max(aware(t) for t in (last, record.taken_at, record.requested_at)
                    if t is not None)
        if utcnow() - since < silence:
            return False
        if not self.claim_reminder(state.openid, silence):
            return False
        self.publish({"type": "reminder", "openid": state.openid, "agent_id": state.agent_id,
                      "silent_seconds": int((utcnow() - since).total_seconds())})
        return True

    def claim_reminder(self, openid: str, silence: timedelta) -> bool:
        """At most one reminder (and acknowledgement) per silence period and conversation,
        whether the engine or the worker's SilenceWatch notices first."""
        key = f"wuye:reminded:{openid}"
        return bool(self.redis.set(key, "1", nx=True, ex=max(int(silence.total_seconds()), 1)))

    def forward(self, state: ConversationState, message_id: int) -> None:
        """A message for the person who owns the conversation: the bot stays silent."""
        self.publish({"type": "message", "openid": state.openid, "message_id": message_id,
                      "owner": state.owner, "agent_id": state.agent_id})

    def publish(self, event: dict[str, Any]) -> None:
        self.redis.publish(EVENTS_CHANNEL, json.dumps(event, ensure_ascii=False))

    def _record_request(self, state: ConversationState, reason: str,
                        message_id: int | None) -> None:
        if self.sessions is None:
            return
        off_hours = not ServiceHours(self.config).is_open()
        with transaction(self.sessions) as session:
            session.add(HandoverRecord(openid=state.openid, conversation_id=state.conversation_id,
                                       reason=reason[:32], message_id=message_id,
                                       off_hours=off_hours, requested_at=utcnow(),
                                       community_id=context.current_id()))

    # -- from the console ----------------------------------------------------------
    def take_over(self, openid: str, agent_id: int) -> ConversationState:
        with self.turn(openid):
            return self._take_over(openid, agent_id)

    def _take_over(self, openid: str, agent_id: int) -> ConversationState:
        state = self.states.load(openid)
        if state.owner == "agent" and state.agent_id != agent_id:
            raise HandoverError("owned_by_other")
        state.owner, state.agent_id = "agent", agent_id
        self.states.save(state)
        community = ResidentCommunities(self._sessions).resolve(openid)
        with transaction(self._sessions) as session:
            record = self._open_record(session, openid) or self._new_record(session, state)
            if record.community_id is None and community is not None:
                record.community_id = community.id
            record.agent_id = agent_id
            record.conversation_id = state.conversation_id
            record.taken_at = record.taken_at or utcnow()
        self.publish({"type": "taken", "openid": openid, "agent_id": agent_id})
        return state

    def hand_back(self, openid: str, agent_id: int) -> None:
        """The bot answers again, in the same conversation."""
        with self.turn(openid):
            self._hand_back(openid, agent_id)

    def _hand_back(self, openid: str, agent_id: int) -> None:
        state = self._owned(openid, agent_id)
        state.owner, state.agent_id = "bot", None
        state.slots.pop("fallback_count", None)
        self.states.save(state)
        self._end(openid, "handed_back")
        self.publish({"type": "handed_back", "openid": openid, "agent_id": agent_id})

    def close(self, openid: str, agent_id: int) -> int | None:
        """End the conversation and ask for a rating; returns the rating row's id, or None
        when no agent ever answered it (there is nothing to rate)."""
        with self.turn(openid):
            return self._close(openid, agent_id)

    def answered(self, openid: str) -> bool:
        """Whether an agent has replied in the open handover (or none is open)."""
        with self._sessions() as session:
            record = self._open_record(session, openid)
            return record is None or record.first_response_at is not None

    def _close(self, openid: str, agent_id: int) -> int | None:
        state = self._owned(openid, agent_id, allow_waiting=True)
        answered = self.answered(openid)
        record_id = self._end(openid, "closed")
        self.states.close(openid)
        if not answered:
            self.publish({"type": "closed", "openid": openid, "agent_id": agent_id})
            return None
        with transaction(self._sessions) as session:
            rating = ConversationRating(openid=openid, conversation_id=state.conversation_id,
                                        handover_id=record_id, agent_id=agent_id,
                                        asked_at=utcnow())
            session.add(rating)
            session.flush()
            rating_id = rating.id
        ttl = timedelta(hours=self.config.handoff.rating_ttl_hours)
        self.redis.set(self.rating_key(openid), rating_id, ex=ttl)
        self.publish({"type": "closed", "openid": openid, "agent_id": agent_id})
        return rating_id

    def transfer(self, openid: str, agent_id: int, to_agent_id: int) -> None:
        with self.turn(openid):
            self._transfer(openid, agent_id, to_agent_id)

    def _transfer(self, openid: str, agent_id: int, to_agent_id: int) -> None:
        state = self._owned(openid, agent_id)
        state.agent_id = to_agent_id
        self.states.save(state)
        with transaction(self._sessions) as session:
            record = self._open_record(session, openid)
            if record is not None:
                record.agent_id = to_agent_id
        self.publish({"type": "transferred", "openid": openid, "agent_id": to_agent_id,
                      "from_agent_id": agent_id})

    def note_agent_reply(self, session: Session, openid: str) -> None:
        """The first agent message answers the handover (first response time)."""
        record = self._open_record(session, openid)
        if record is not None and record.first_response_at is None:
            record.first_response_at = utcnow()

    def delivery_changed(self, item: OutboxItem) -> None:
        """Outbox callback: a send succeeded, failed or will be retried; consoles redraw it."""
        self.publish({"type": "delivery", "openid": item.openid, "message_id": item.message_id,
                      "status": item.status, "attempts": item.attempts,
                      "error": item.last_error})

    # -- ratings -------------------------------------------------------------------
    @staticmethod
    def rating_key(openid: str) -> str:
        return f"wuye:rating:{openid}"

    def pending_rating(self, openid: str) -> int | None:
        """The conversation rating the resident's next message may answer (not taken)."""
        value = self.redis.get(self.rating_key(openid))
        return int(value) if value else None

    def take_pending_rating(self, openid: str) -> int | None:
        """The rating the resident's next message answers, asked at most once."""
        key = self.rating_key(openid)
        pipe = self.redis.pipeline()
        pipe.get(key)
        pipe.delete(key)
        value, _ = pipe.execute()
        return int(value) if value else None

    # -- helpers -------------------------------------------------------------------
    @property
    def _sessions(self) -> sessionmaker[Session]:
        if self.sessions is None:
            raise RuntimeError("Handover needs sessions: call bind(sessions, config)")
        return self.sessions

    def _owned(self, openid: str, agent_id: int, allow_waiting: bool = False) -> ConversationState:
        state = self.states.load(openid)
        if allow_waiting and state.owner == "waiting":
            return state
        if state.owner != "agent" or state.agent_id != agent_id:
            raise HandoverError("not_yours")
        return state

    @staticmethod
    def _open_record(session: Session, openid: str) -> HandoverRecord | None:
        return session.scalars(
            select(HandoverRecord)
            .where(HandoverRecord.openid == openid, HandoverRecord.ended_at.is_(None))
            .order_by(HandoverRecord.id.desc()).limit(1)
        ).first()

    @staticmethod
    def _new_record(session: Session, state: ConversationState) -> HandoverRecord:
        """An agent stepped in without a request (the agent chose to)."""
        record = HandoverRecord(openid=state.openid, conversation_id=state.conversation_id,
                                reason="agent", requested_at=utcnow())
        session.add(record)
        return record

    def _end(self, openid: str, outcome: str) -> int | None:
        with transaction(self._sessions) as session:
            record = self._open_record(session, openid)
            if record is None:
                return None
            record.outcome, record.ended_at = outcome, utcnow()
            return record.id

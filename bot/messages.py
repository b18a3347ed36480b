"""The message log: every inbound push and outbound reply, stored before and after work.

An inbound push is stored in one transaction, already claimed by whoever stored
it (`claim` token + `lease_until`): if that process dies or the turn cannot be
finished, the sweeper takes the push over when the lease has run out. The turn's
outcome is written in one more transaction, and only by the current claim holder,
so a push is never answered twice.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.inbound import Inbound
from bot.replies import Reply
from core.db import limit_statements, transaction, utcnow
from core.models import Message, Resident

UNFINISHED = ("received", "processing")


@dataclass(frozen=True)
class Claim:
    """The right to process one stored push, until `lease_until`."""

    message_id: int
    token: str
    openid: str
    attempts: int = 1
    taken_at: float = field(default_factory=time.monotonic)  # when this process claimed it


class MessageLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # Marks the engine makes during a turn, written with the turn's outcome.
        self._turns: dict[int, dict[str, Any]] = {}
        self._turns_lock = threading.Lock()

    # -- storing a push -----------------------------------------------------------------
    def store_inbound(self, inbound: Inbound, raw: str, lease: timedelta | None = None,
                      timeout: float | None = None) -> Claim | None:
        """Commit the push, claimed by the caller; None when it is a duplicate being handled.

        A duplicate whose earlier claim has lapsed (a crash, a failed turn) is claimed
        again instead. One transaction, bounded by `timeout` on PostgreSQL.
        """
        lease = lease or timedelta(seconds=60)
        token = uuid.uuid4().hex
        now = utcnow()
        with transaction(self.sessions) as session:
            message_id = self._insert_push(session, inbound, raw, now, timeout, {
                "status": "processing", "claim": token, "lease_until": now + lease,
                "attempts": 1})
            if message_id is not None:
                return Claim(message_id, token, inbound.openid)
            row = session.execute(
                self._claimable(update(Message).where(Message.dedupe_key == inbound.dedupe_key),
                                now)
                .values(claim=token, lease_until=now + lease, status="processing",
                        attempts=Message.attempts + 1)
                .returning(Message.id, Message.attempts)
            ).first()
        return Claim(row[0], token, inbound.openid, row[1]) if row else None

    def store_throttled(self, inbound: Inbound, raw: str, notice: Reply,
                        timeout: float | None = None) -> bool:
        """Store a push over the rate limit with the notice answering it; False if a duplicate.

        It is not processed, but kept and flagged so a person sees it: never lost silently.
        """
        now = utcnow()
        with transaction(self.sessions) as session:
            message_id = self._insert_push(session, inbound, raw, now, timeout,
                                           {"status": "throttled", "needs_agent": True})
            if message_id is None:
                return False
            self.add_outbound(session, inbound.openid, notice, "passive", "sent",
                              in_reply_to=message_id)
        return True

    def _insert_push(self, session: Session, inbound: Inbound, raw: str, now: datetime,
                     timeout: float | None, values: dict[str, Any]) -> int | None:
        """The store's statements: its deadline, the resident's row, the push itself
        with `values` (None when its dedupe key is stored already)."""
        if timeout is not None:
            limit_statements(session, timeout)
        self._upsert_resident(session, inbound, now)
        return session.scalar(_new_push(_dialect(session)),
                              {**self._inbound_row(inbound, raw, now), **values})

    @staticmethod
    def _inbound_row(inbound: Inbound, raw: str, now: datetime) -> dict[str, Any]:
        return {
            "openid": inbound.openid,
            "direction": "in",
            "msg_type": inbound.event and f"event:{inbound.event}" or inbound.msg_type,
            "dedupe_key": inbound.dedupe_key,
            "wechat_msg_id": inbound.msg_id,
            "text": inbound.text,
            "raw": raw,
            "parsed": inbound.fields,
            "sender": "resident",
            "created_at": now,
        }

    @staticmethod
    def _upsert_resident(session: Session, inbound: Inbound, now: datetime) -> None:
        """One statement, safe when two first pushes of a resident race."""
        changes: dict[str, Any] = {"last_seen": now}
        if inbound.is_event and inbound.event in ("subscribe", "unsubscribe"):
            changes["following"] = inbound.event == "subscribe"
        elif not inbound.is_event:
            changes["last_inbound_at"] = now
        session.execute(_resident_upsert(_dialect(session), tuple(sorted(changes))), {
            "openid": inbound.openid, "first_seen": now,
            "following": changes.get("following", True), "last_seen": now,
            "last_inbound_at": changes.get("last_inbound_at")})

    # -- claims ---------------------------------------------------------------------------
    @staticmethod
    def _claimable(statement: Any, now: datetime) -> Any:
        """Inbound, unfinished, and nobody's lease is still running."""
        return statement.where(
            Message.direction == "in",
            Message.status.in_(UNFINISHED),
            or_(Message.lease_until.is_(None), Message.lease_until <= now),
        ).execution_options(synchronize_session=False)

    def claim_stale(self, lease: timedelta, limit: int,
                    now: datetime | None = None) -> list[tuple[Claim, str]]:
        """Claim pushes left unfinished past their lease (the sweeper); with their raw XML."""
        now = now or utcnow()
        with self.sessions() as session:
            ids = list(session.scalars(
                self._claimable(select(Message.id), now).order_by(Message.id).limit(limit)
            ))
        claimed = []
        for message_id in ids:
            token = uuid.uuid4().hex
            with transaction(self.sessions) as session:
                row = session.execute(
                    self._claimable(update(Message).where(Message.id == message_id), now)
                    .values(claim=token, lease_until=now + lease, status="processing",
                            attempts=Message.attempts + 1)
                    .returning(Message.openid, Message.attempts, Message.raw)
                ).first()
            if row is not None:
                claimed.append((Claim(message_id, token, row[0], row[1]), row[2] or ""))
        return claimed

    @staticmethod
    def settle(session: Session, claim: Claim, values: dict[str, Any]) -> bool:
        """Write a turn's result on the push, only if `claim` still holds it."""
        result = session.execute(_SETTLE, {**values, "claim": None, "lease_until": None,
                                           "held_id": claim.message_id,
                                           "held_by": claim.token})
        return result.rowcount == 1  # type: ignore[attr-defined]

    def release(self, claim: Claim, retry_in: timedelta) -> None:
        """The turn could not run (Redis or the database away): let the sweeper retry soon."""
        with transaction(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == claim.message_id, Message.claim == claim.token)
                .values(lease_until=utcnow() + retry_in)
                .execution_options(synchronize_session=False)
            )

    def give_up(self, claim: Claim, error: str) -> None:
        """Stop retrying a push: it waits for a person."""
        with transaction(self.sessions) as session:
            self.settle(session, claim, {"status": "failed", "needs_agent": True,
                                         "error": error[:500]})

    # -- marks the engine makes during a turn ---------------------------------------------
    def begin_turn(self, message_id: int) -> None:
        """Collect annotate/finish marks for this push instead of writing each at once."""
        with self._turns_lock:
            self._turns[message_id] = {}

    def end_turn(self, message_id: int) -> dict[str, Any]:
        """The collected marks, as column values for the outcome's single write."""
        with self._turns_lock:
            return self._turns.pop(message_id, {})

    def _mark(self, message_id: int, values: dict[str, Any]) -> bool:
        with self._turns_lock:
            marks = self._turns.get(message_id)
            if marks is None:
                return False
            marks.update(values)
            return True

    def annotate(self, message_id: int, nlu: dict[str, Any], conversation_id: int | None) -> None:
        values = {"nlu": nlu, "conversation_id": conversation_id}
        if self._mark(message_id, values):
            return
        with transaction(self.sessions) as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))

    def finish(self, message_id: int, status: str, needs_agent: bool = False,
               error: str | None = None) -> None:
        """Flag a push (and set its status outside a turn; inside, the outcome sets it)."""
        values: dict[str, Any] = {}
        if needs_agent:
            values["needs_agent"] = True
        if error:
            values["error"] = error
        if self._mark(message_id, values):
            return
        values["status"] = status
        with transaction(self.sessions) as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))

    # -- outbound and reading -------------------------------------------------------------
    @staticmethod
    def add_outbound(session: Session, openid: str, reply: Reply, delivery: str,
                     status: str, sender: str = "bot",
                     conversation_id: int | None = None,
                     in_reply_to: int | None = None,
                     extra: dict[str, Any] | None = None, needs_agent: bool = False) -> int:
        """Log an outbound message in the caller's transaction; returns its id. One
        INSERT … RETURNING: a reply is written for nearly every push."""
        return int(session.execute(_OUTBOUND, {
            "openid": openid, "direction": "out", "msg_type": reply.kind, "text": reply.text,
            "parsed": {**reply.to_dict(), **(extra or {})}, "sender": sender,
            "delivery": delivery, "status": status, "conversation_id": conversation_id,
            "in_reply_to": in_reply_to, "needs_agent": needs_agent,
            "created_at": utcnow()}).scalar_one())

    def recent(self, openid: str, limit: int = 20) -> list[Message]:
        with self.sessions() as session:
            rows = session.scalars(
                select(Message).where(Message.openid == openid)
                .order_by(Message.id.desc()).limit(limit)
            ).all()
        return list(reversed(rows))

    def last_inbound_at(self, openid: str) -> datetime | None:
        with self.sessions() as session:
            resident = session.get(Resident, openid)
            value = resident.last_inbound_at if resident else None
        return value.astimezone(UTC) if value else None


# The statements every push runs are built once: building one per call (values,
# coercions, a fresh cache key) costs several times what executing it does. Values
# come as parameters; the columns set are those the parameters name.
_MESSAGES = Message.__table__
_RESIDENTS = Resident.__table__
_OUTBOUND = insert(_MESSAGES).returning(_MESSAGES.c.id)
_SETTLE = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("held_id"),
                                  _MESSAGES.c.claim == bindparam("held_by"))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _dialect_insert(dialect: str, table: Any) -> Any:
    """INSERT … ON CONFLICT for the backend (SQLite or PostgreSQL)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@functools.cache
def _new_push(dialect: str) -> Any:
    """Store a push unless its dedupe key is stored already; returns the new id."""
    return _dialect_insert(dialect, _MESSAGES).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(_MESSAGES.c.id)


@functools.cache
def _resident_upsert(dialect: str, changes: tuple[str, ...]) -> Any:
    """One statement, safe when two first pushes of a resident race: a known resident
    gets the `changes` columns from the row offered."""
    statement = _dialect_insert(dialect, _RESIDENTS)
    return statement.on_conflict_do_update(
        index_elements=["openid"], set_={name: statement.excluded[name] for name in changes})

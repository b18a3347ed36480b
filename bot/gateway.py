"""Between the webhook and the engine: store first, answer within budget, never twice.

WeChat waits 5 s for an answer and retries a push up to three times when it gets
none, or a 5xx. So a push is acknowledged only once it is committed: if Redis or
the database cannot take it in time, `StoreUnavailable` makes the webhook answer
503 and WeChat's retry stores it later. The whole request, storage included, fits
the reply budget (statement timeouts on PostgreSQL, socket timeouts on Redis).

Once stored, the push is claimed (a lease on its row) and processed. A reply
ready in time is returned passively and recorded as sent; a late one goes to the
outbox, persisted, never held only in memory. A turn that could not run (Redis or
the database away) is left to the sweeper, which also takes over pushes whose
process died. The database's unique key on the push is the real dedupe; Redis
only lets a concurrent retry return the same passive reply.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from bot.engine import Engine
from bot.handover import TurnHold
from bot.inbound import Inbound
from bot.messages import Claim, MessageLog
from bot.outbox import Outbox
from bot.replies import Reply, custom_payload, expand, passive_xml
from bot.state import ConversationState
from core.config import WechatConfig
from core.db import limit_statements, transaction

log = logging.getLogger(__name__)

SUCCESS = "success"
PENDING = "__pending__"
# Time kept back from the budget for writing the outcome and sending the response.
OUTCOME_SECONDS = 0.5
# A passive reply is chosen only if this much budget is left when the outcome commits.
COMMIT_SECONDS = 0.2
# A turn that failed on Redis or the database is retried by the sweeper after this.
RETRY_AFTER = timedelta(seconds=5)


class StoreUnavailable(Exception):
    """The push could not be stored now; the webhook answers 503 so WeChat retries it."""


class Unstorable(ValueError):
    """The database refused the push's content itself; retrying cannot help (400)."""


class Replayed(Exception):
    """A signature and nonce seen before, now with another body: a replayed URL (403)."""


class LostClaim(Exception):
    """Another process took this push over; our outcome must not be written."""


@dataclass(frozen=True)
class Push:
    """One verified push as the webhook hands it over."""

    inbound: Inbound
    raw: str
    deadline: float  # time.monotonic() by which WeChat must have its answer
    replay_key: str = ""  # signature+timestamp+nonce: remembered to refuse replays
    body_digest: str = ""

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@dataclass
class Turn:
    """What one engine run produced, not yet written; it holds the conversation's turn
    lock until the gateway's `finish` (the outcome written, or given up)."""

    replies: list[Reply] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    transient: bool = False
    state: ConversationState | None = None
    writes: list[Callable[[Session], None]] = field(default_factory=list)
    hold: TurnHold | None = None
    committed: bool = False  # the outcome, state included, is in the database


def is_transient(exc: BaseException) -> bool:
    """Redis or the database away, slow or locked: trying again later may work."""
    if isinstance(exc, sa_exc.OperationalError) and isinstance(exc.orig, sqlite3.Error):
        return "locked" in str(exc.orig) or "busy" in str(exc.orig)  # not "no such table"
    if isinstance(exc, (RedisError, sa_exc.OperationalError, sa_exc.InterfaceError,
                        sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


class _Handoff:
    """A turn running in the pool, and whether the request still waits for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.turn: Turn | None = None
        self.abandoned = False


class Gateway:
    def __init__(self, config: WechatConfig, redis_client: redis.Redis,
                 sessions: sessionmaker[Session], messages: MessageLog, engine: Engine,
                 outbox: Outbox, rate_notice: Reply | None = None, workers: int = 8) -> None:
        self.config = config
        self.redis = redis_client
        self.sessions = sessions
        self.messages = messages
        self.engine = engine
        self.outbox = outbox
        self.rate_notice = rate_notice or Reply(text="")
        self.lease = timedelta(seconds=config.processing_lease_seconds)
        self.retry_after = min(RETRY_AFTER, self.lease)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dialogue")
        self.stopping = threading.Event()

    # -- the request path -------------------------------------------------------------------
    def receive(self, push: Push) -> str:
        """Return the passive reply XML (plaintext) or `success`; raise if not stored."""
        key = f"wuye:push:{push.inbound.dedupe_key}"
        claimed, throttled = self._edge_checks(push, key)
        if not claimed:
            cached = self._await_first(key, push.deadline)
            if cached is not None:
                return cached
        mine = key if claimed else ""  # only a key we set is ours to clear
        if throttled:
            return self._store_throttled(push, mine)
        claim = self._store(push, mine)
        if claim is None:  # stored before; its holder or the sweeper answers it
            self._forget(mine)
            return SUCCESS
        return self._answer(push, claim, key)

    def _edge_checks(self, push: Push, key: str) -> tuple[bool, bool]:
        """One Redis round trip: replay check, rate count, dedupe claim."""
        limit = self.config.rate_limit_per_minute
        rate_key = f"wuye:rate:{push.inbound.openid}:{int(time.time() // 60)}"
        pipe = self.redis.pipeline(transaction=False)
        if push.replay_key:
            window = self.config.timestamp_tolerance_seconds * 2 + 60
            pipe.set(f"wuye:nonce:{push.replay_key}", push.body_digest, nx=True, ex=window)
            pipe.get(f"wuye:nonce:{push.replay_key}")
        if limit > 0:
            pipe.incr(rate_key)
            pipe.expire(rate_key, 120)
        pending_ttl = max(math.ceil(self.config.reply_budget_seconds) + 1, 2)
        pipe.set(key, PENDING, nx=True, ex=pending_ttl)
        try:
            results = pipe.execute()
        except RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from None
        claimed = bool(results[-1])
        if push.replay_key and results[1] != push.body_digest:
            if claimed:
                self._forget(key)
            raise Replayed("signature and nonce already used with another body")
        throttled = limit > 0 and int(results[-3]) > limit
        return claimed, throttled

    def _await_first(self, key: str, deadline: float) -> str | None:
        """A concurrent attempt of the same push: return its reply if it comes in time.

        Stops early enough to store the push itself: the claim may be a dead process's."""
        stop_at = deadline - max(OUTCOME_SECONDS + 1.0, self.config.reply_budget_seconds / 4)
        while time.monotonic() < stop_at:
            try:
                value = self.redis.get(key)
            except RedisError:
                return None
            if value is None:
                return None  # the first attempt gave up: the database decides
            if value != PENDING:
                return str(value)
            time.sleep(0.05)
        return None

    def _store(self, push: Push, key: str) -> Claim | None:
        try:
            return self.messages.store_inbound(push.inbound, push.raw, self.lease,
                                               timeout=self._left(push))
        except sa_exc.DataError as exc:
            self._forget(key)
            raise Unstorable(type(exc.orig).__name__ if exc.orig else "DataError") from None
        except StoreUnavailable:
            self._forget(key)
            raise
        except Exception as exc:
            self._forget(key)
            raise StoreUnavailable(f"database: {type(exc).__name__}") from None

    def _store_throttled(self, push: Push, key: str) -> str:
        """Over the rate limit: store the push and answer a polite notice, skip the dialogue."""
        try:
            stored = self.messages.store_throttled(push.inbound, push.raw, self.rate_notice,
                                                   timeout=self._left(push))
        except Exception as exc:
            self._forget(key)
            raise StoreUnavailable(f"database: {type(exc).__name__}") from None
        log.info("push %s over the rate limit: stored, not processed",
                 push.inbound.dedupe_key)
        if not stored:
            self._forget(key)
            return SUCCESS
        reply = passive_xml(self.rate_notice, push.inbound.openid, push.inbound.account)
        if key:
            self._remember(key, reply)
        return reply

    def _left(self, push: Push) -> float:
        left = push.remaining() - OUTCOME_SECONDS
        if left <= 0:
            raise StoreUnavailable("no time left in the reply budget")
        return left

    def _remember(self, key: str, reply: str) -> None:
        try:
            self.redis.set(key, reply, ex=self.config.dedupe_ttl_seconds)
        except RedisError:
            log.warning("could not cache the reply of %s; a retry will get success", key)

    def _forget(self, key: str) -> None:
        if not key:
            return
        try:
            self.redis.delete(key)
        except RedisError:
            pass  # it expires within seconds anyway

    def _answer(self, push: Push, claim: Claim, key: str) -> str:
        """Run the turn in the pool, wait for it within the budget, write its outcome;
        the reply is kept in Redis for a concurrent retry of the same push."""
        handoff = _Handoff()
        try:
            self.pool.submit(self._run_for_request, push.inbound, claim, handoff)
        except RuntimeError:  # shutting down: the sweeper processes it after the lease
            self._remember(key, SUCCESS)
            return SUCCESS
        wait = push.remaining() - OUTCOME_SECONDS
        if not handoff.done.wait(max(wait, 0)):
            with handoff.lock:
                if not handoff.done.is_set():
                    handoff.abandoned = True  # the pool thread writes it to the outbox
                    log.warning("reply to message %s deferred to the outbox", claim.message_id)
                    self._remember(key, SUCCESS)
                    return SUCCESS
        assert handoff.turn is not None
        return self._settle_now(push, claim, handoff.turn, key)

    def _run_for_request(self, inbound: Inbound, claim: Claim, handoff: _Handoff) -> None:
        turn = self.run_turn(inbound, claim)
        with handoff.lock:
            handoff.turn = turn
            handoff.done.set()
            late = handoff.abandoned
        if late:
            self._settle_late(inbound, claim, turn)

    def _settle_now(self, push: Push, claim: Claim, turn: Turn, key: str) -> str:
        if turn.transient:
            self._release(claim)
            self._remember(key, SUCCESS)
            return SUCCESS
        try:
            passive = self.write_outcome(push.inbound, claim, turn, push.deadline)
        except LostClaim:
            reply = SUCCESS
        except Exception as exc:
            log.warning("outcome of message %s not written in time (%s); retrying in the "
                        "background", claim.message_id, type(exc).__name__)
            try:
                self.pool.submit(self._settle_late, push.inbound, claim, turn)
            except RuntimeError:
                self.finish(turn)  # shutting down: the sweeper redoes the turn after the lease
            self._remember(key, SUCCESS)
            return SUCCESS
        else:
            reply = SUCCESS if passive is None else \
                passive_xml(passive, push.inbound.openid, push.inbound.account)
        self.finish(turn, remember=(key, reply))
        return reply

    def _settle_late(self, inbound: Inbound, claim: Claim, turn: Turn) -> None:
        """Write a late outcome (outbox only), retrying while the database is away.

        Gives up when the lease runs out: the sweeper then redoes the turn, and this
        claim can no longer write anything."""
        try:
            self._write_late(inbound, claim, turn)
        finally:
            self.finish(turn)

    def _write_late(self, inbound: Inbound, claim: Claim, turn: Turn) -> None:
        if turn.transient:
            self._release(claim)
            return
        give_up = time.monotonic() + self.lease.total_seconds()
        delay = 0.2
        while not self.stopping.is_set():
            try:
                self.write_outcome(inbound, claim, turn, None)
                return
            except LostClaim:
                return
            except Exception as exc:
                if time.monotonic() + delay >= give_up or not is_transient(exc):
                    log.error("outcome of message %s not written (%s); left to the sweeper",
                              claim.message_id, type(exc).__name__)
                    return
            self.stopping.wait(delay)
            delay = min(delay * 2, 5.0)

    def _release(self, claim: Claim) -> None:
        try:
            self.messages.release(claim, self.retry_after)
        except Exception:
            log.warning("message %s stays claimed until its lease runs out", claim.message_id)

    # -- shared with the sweeper ------------------------------------------------------------
    def run_turn(self, inbound: Inbound, claim: Claim) -> Turn:
        """Run the engine once; never raises. A transient failure is marked for a retry."""
        if time.monotonic() - claim.taken_at > self.lease.total_seconds() * 0.8:
            # Waited too long for a thread: the sweeper may take it over any moment now.
            return Turn(error="claim too old to start the turn", transient=True)
        self.messages.begin_turn(claim.message_id)
        hold: TurnHold | None = None
        try:
            hold = self.engine.hold(inbound.openid)
            outcome = self.engine.handle(inbound, claim.message_id)
        except Exception as exc:
            if hold is not None:
                hold.release()  # nothing of the turn is kept: the state is as it was
            marks = self.messages.end_turn(claim.message_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
            if is_transient(exc):
                log.warning("message %s could not be processed now (%s); will retry",
                            claim.message_id, type(exc).__name__)
                return Turn(marks=marks, error=error, transient=True)
            log.exception("processing message %s failed", claim.message_id)
            return Turn(marks=marks, error=error)
        # issue 12: the engine returns the turn's outcome; it is written once, with the replies
        marks = {**self.messages.end_turn(claim.message_id), **outcome.marks()}
        return Turn(replies=list(outcome.replies), marks=marks, state=outcome.state,
                    writes=outcome.writes, hold=hold)

    def process_claimed(self, inbound: Inbound, claim: Claim) -> None:
        """The sweeper's path: run the turn and deliver everything through the outbox."""
        turn = self.run_turn(inbound, claim)
        if turn.transient:
            self._release(claim)
            return
        try:
            self.write_outcome(inbound, claim, turn, None)
        except LostClaim:
            pass
        except Exception as exc:
            log.warning("outcome of message %s not written (%s); the sweeper retries",
                        claim.message_id, type(exc).__name__)
        finally:
            self.finish(turn)

    def finish(self, turn: Turn, remember: tuple[str, str] | None = None) -> None:
        """After the outcome, in one Redis round trip (a hung Redis delays a reply by one
        timeout, no more): the state's copy if the outcome committed, so the
        conversation's next turn and every reader see it; the turn lock's release; the
        reply kept for a concurrent retry of the push."""
        pipe = self.redis.pipeline(transaction=False)
        state = turn.state if turn.committed else None
        if state is not None:
            self.engine.states.cache_in(pipe, state)
        if turn.hold is not None:
            turn.hold.release_in(pipe)
        if remember is not None:
            pipe.set(remember[0], remember[1], ex=self.config.dedupe_ttl_seconds)
        if not len(pipe):
            return
        try:
            pipe.execute()
        except RedisError:
            log.warning("state, turn lock or reply of a push not written to Redis")
            if state is not None:  # the old copy must not outlive it: the next load reads the row
                self._forget_state_soon(state)

    def _forget_state_soon(self, state: ConversationState) -> None:
        def forget() -> None:
            try:
                self.engine.states.forget_cache(state.openid)
            except RedisError:
                log.warning("stale conversation state left in Redis until it expires")
        try:
            self.pool.submit(forget)
        except RuntimeError:
            pass

    def write_outcome(self, inbound: Inbound, claim: Claim, turn: Turn,
                      deadline: float | None) -> Reply | None:
        """One transaction: the push's status and marks, the conversation state, the
        records the turn keeps, its replies and their outbox items. The caller then
        calls `finish` (the state's Redis copy, the turn lock).

        The first reply is passive only if `deadline` leaves time to return it; then it
        is recorded as sent. Returns that passive reply, if any.
        """
        replies = expand(turn.replies) if turn.replies else []
        values: dict[str, Any] = {"status": "processed", **turn.marks}
        if turn.error:
            values.update(status="failed", needs_agent=True, error=turn.error)
        passive: Reply | None = None
        with transaction(self.sessions) as session:
            if deadline is not None:
                limit_statements(session, max(deadline - time.monotonic(), 0.05))
            if turn.state is not None:
                values["conversation_id"] = self.engine.states.persist(session, turn.state)
            if not self.messages.settle(session, claim, values):
                raise LostClaim(claim.message_id)
            for write in turn.writes:
                write(session)
            for number, reply in enumerate(replies):
                if number == 0 and deadline is not None and \
                        time.monotonic() < deadline - COMMIT_SECONDS:
                    self.messages.add_outbound(session, inbound.openid, reply, "passive",
                                               "sent", in_reply_to=claim.message_id)
                    passive = reply
                    continue
                message_id = self.messages.add_outbound(session, inbound.openid, reply,
                                                        "custom", "queued",
                                                        in_reply_to=claim.message_id)
                self.outbox.enqueue(session, inbound.openid, "custom",
                                    custom_payload(reply, inbound.openid), message_id,
                                    key=f"reply:{claim.message_id}:{number}")
        turn.committed = True
        return passive

    def close(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=False)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()

"""Between the webhook and the engine: dedupe, persist first, answer within budget.

WeChat waits 5 s and retries a push up to three times. Each push is claimed
once in Redis (SET NX with TTL) and stored in the database before any work;
a retry waits for, and returns, the first attempt's reply. Work that would not
finish within the budget is answered with `success` and its replies delivered
later through the outbox (customer-service messages).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.engine import Engine
from bot.inbound import Inbound
from bot.messages import MessageLog
from bot.outbox import Outbox
from bot.replies import Reply, custom_payload, expand, passive_xml
from core.config import WechatConfig
from core.db import transaction

log = logging.getLogger(__name__)

SUCCESS = "success"
PENDING = "__pending__"


class Gateway:
    def __init__(self, config: WechatConfig, redis_client: redis.Redis,
                 sessions: sessionmaker[Session], messages: MessageLog, engine: Engine,
                 outbox: Outbox, workers: int = 8) -> None:
        self.config = config
        self.redis = redis_client
        self.sessions = sessions
        self.messages = messages
        self.engine = engine
        self.outbox = outbox
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dialogue")

    def receive(self, inbound: Inbound, raw: str) -> str:
        """Return the passive reply XML (plaintext) or `success`."""
        key = f"wuye:push:{inbound.dedupe_key}"
        if not self.redis.set(key, PENDING, nx=True, ex=self.config.dedupe_ttl_seconds):
            return self._await_first(key)
        try:
            message_id = self.messages.store_inbound(inbound, raw)
        except IntegrityError:
            # Redis forgot (restart, TTL) but the database remembers: a duplicate.
            self.redis.set(key, SUCCESS, ex=self.config.dedupe_ttl_seconds)
            return SUCCESS
        except Exception:
            self.redis.delete(key)  # nothing stored: let WeChat's retry try again
            raise
        reply = self._answer(inbound, message_id)
        self.redis.set(key, reply, ex=self.config.dedupe_ttl_seconds)
        return reply

    def _await_first(self, key: str) -> str:
        deadline = time.monotonic() + self.config.reply_budget_seconds
        while time.monotonic() < deadline:
            value = self.redis.get(key)
            if value is not None and value != PENDING:
                return str(value)
            time.sleep(0.05)
        return SUCCESS

    def _answer(self, inbound: Inbound, message_id: int) -> str:
        future = self.pool.submit(self._process, inbound, message_id)
        try:
            replies = future.result(timeout=self.config.reply_budget_seconds)
        except FutureTimeout:
            # Runs at once if the work finished meanwhile, so no reply is ever dropped.
            future.add_done_callback(lambda done: self._deliver_later(inbound, done))
            log.warning("reply for message %s deferred to the outbox", message_id)
            return SUCCESS
        return self._deliver_now(inbound, replies)

    def _process(self, inbound: Inbound, message_id: int) -> list[Reply] | None:
        """Run the engine; an unexpected error is logged, flagged for a person, never raised."""
        try:
            outcome = self.engine.handle(inbound, message_id)
        except Exception as exc:
            log.exception("processing message %s failed", message_id)
            self.messages.finish(message_id, "failed", needs_agent=True,
                                 error=f"{type(exc).__name__}: {exc}"[:500])
            return None
        # issue 12: the turn's outcome is written once, here.
        self.messages.record_outcome(message_id, outcome.nlu, outcome.conversation_id,
                                     outcome.needs_agent)
        return outcome.replies

    def _deliver_now(self, inbound: Inbound, replies: list[Reply] | None) -> str:
        if not replies:
            return SUCCESS
        replies = expand(replies)
        first, rest = replies[0], replies[1:]
        with transaction(self.sessions) as session:
            self.messages.add_outbound(session, inbound.openid, first, "passive", "sent")
            self._enqueue(session, inbound.openid, rest)
        return passive_xml(first, inbound.openid, inbound.account)

    def _deliver_later(self, inbound: Inbound, done: Future[list[Reply] | None]) -> None:
        try:
            replies = done.result()
            if not replies:
                return
            with transaction(self.sessions) as session:
                self._enqueue(session, inbound.openid, expand(replies))
        except Exception:
            log.exception("could not queue late replies for %s", inbound.dedupe_key)

    def _enqueue(self, session: Session, openid: str, replies: list[Reply]) -> None:
        for reply in replies:
            message = self.messages.add_outbound(session, openid, reply, "custom", "queued")
            self.outbox.enqueue(session, openid, "custom", custom_payload(reply, openid),
                                message.id)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)

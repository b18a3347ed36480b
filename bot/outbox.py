"""The durable outbox: WeChat API sends stored with the message, sent at most once.

A reply that cannot go back passively (late answers, agent replies, ticket
notices) is written as an OutboxItem in the same transaction as its Message,
so a crash never loses it; its idempotency key (unique) means one reply part or
one notice is never queued twice. Workers claim due items (PostgreSQL: FOR UPDATE
SKIP LOCKED; SQLite: a conditional UPDATE) by moving them to `sending` with a
lease, send, and record the outcome.

WeChat's send API has no idempotency of its own, so where we cannot know whether
a send arrived — the answer timed out after the request left, or the worker died
mid-send (its lease ran out in `sending`) — the item becomes `ambiguous` and its
message is flagged for a person: one possibly lost message, recorded, rather than
a duplicate. Errors WeChat answers are retried with backoff (system busy, 45047
rate limits, 5xx) or given up at once (45015 outside the 48-hour window), flagged.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.wechat_api import WechatApi, WechatApiError
from core.config import OutboxConfig
from core.db import utcnow
from core.metrics import OUTBOX_DUPLICATES_AVOIDED, OUTBOX_SENDS
from core.models import Message, OutboxItem

log = logging.getLogger(__name__)

KINDS = ("custom", "template")


class Outbox:
    """Enqueue sends inside the caller's transaction; deliver them from a worker."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        api: WechatApi,
        config: OutboxConfig,
        on_change: Callable[[OutboxItem], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.api = api
        self.config = config
        self.on_change = on_change
        # Longer than the slowest send: token refresh, send, refresh again, send again.
        self.lease = timedelta(seconds=config.lease_seconds or api.timeout * 6 + 30)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(
        self,
        session: Session,
        openid: str,
        kind: str,
        payload: dict[str, Any],
        message_id: int | None = None,
        key: str | None = None,
    ) -> OutboxItem:
        """Add a send to the caller's session; it is delivered once the caller commits.

        `key` names the send (e.g. reply:<push id>:<part>): a second item with the same
        key cannot be committed, so the same reply is never queued twice."""
        if kind not in KINDS:
            raise ValueError(f"outbox kind must be one of {KINDS}, got {kind!r}")
        item = OutboxItem(openid=openid, kind=kind, payload=payload, message_id=message_id,
                          status="pending", attempts=0, next_attempt_at=utcnow(),
                          idempotency_key=key or f"once:{uuid.uuid4().hex}")
        session.add(item)
        event.listen(session, "after_commit", self._wake_after_commit, once=True)
        return item

    def wake(self) -> None:
        """Poll now instead of at the next tick (called after an enqueue commits)."""
        self._wake.set()

    def run_once(self, now: datetime | None = None) -> int:
        """Send every due item this worker can claim; return how many were attempted."""
        now = now or utcnow()
        self._expire_interrupted(now)
        attempted = 0
        while attempted < self.config.batch_size:
            item_id = self._claim(now)
            if item_id is None:
                break
            self._deliver(item_id, now)
            attempted += 1
        return attempted

    def start_background(self, jobs: Sequence[Callable[[], object]] = ()) -> None:
        """Deliver from a daemon thread in this process (single-process and demo mode);
        `jobs` (e.g. the sweeper's tick) run on every poll of the same loop."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=run_worker, args=(self, self._stop, jobs), name="outbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wait_for_wake(self, timeout: float) -> None:
        """Sleep until the next poll is due or someone calls wake()."""
        self._wake.wait(timeout)
        self._wake.clear()

    # --- claiming ----------------------------------------------------------------------------

    def _expire_interrupted(self, now: datetime) -> None:
        """Items still `sending` past their lease: the worker died mid-send. Not resent."""
        with self.sessions() as session:
            ids = list(session.scalars(
                select(OutboxItem.id)
                .where(OutboxItem.status == "sending", OutboxItem.next_attempt_at <= now)
                .limit(self.config.batch_size)
            ))
        for item_id in ids:
            self._record_ambiguous(item_id, "interrupted mid-send: delivery unknown",
                                   only_if_sending=True)
            OUTBOX_DUPLICATES_AVOIDED.labels("interrupted").inc()

    def _claim(self, now: datetime) -> int | None:
        """Take one due item away from other workers: `sending`, its lease in next_attempt_at.

        One at a time, right before its send: a worker that dies leaves only the send it
        was making in `sending` (ambiguous), never items it had not started."""
        with self.sessions() as session, session.begin():
            due = (
                select(OutboxItem.id)
                .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(4)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True).limit(1)
            for item_id in session.scalars(due).all():
                if self._take(session, item_id, now):
                    return int(item_id)
        return None

    def _take(self, session: Session, item_id: int, now: datetime) -> bool:
        """Conditional UPDATE: only one worker sees its row change (SQLite's claim)."""
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.status == "pending",
                   OutboxItem.next_attempt_at <= now)
            .values(status="sending", next_attempt_at=now + self.lease,
                    attempts=OutboxItem.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    # --- delivering --------------------------------------------------------------------------

    def _deliver(self, item_id: int, now: datetime) -> None:
        with self.sessions() as session:
            item = session.get(OutboxItem, item_id)
            if item is None:
                return
            kind, payload, openid = item.kind, item.payload, item.openid
            key = item.idempotency_key or f"item:{item.id}"
        try:
            answer = self._send(kind, payload, key)
        except WechatApiError as exc:
            if exc.ambiguous:
                self._record_ambiguous(item_id, f"no answer after sending: {exc.errmsg}")
                OUTBOX_DUPLICATES_AVOIDED.labels("no_answer").inc()
            else:
                self._record_failure(item_id, now, exc.errmsg, exc.errcode, exc.retryable)
        except Exception as exc:  # a bug: we cannot tell whether it went out, so not resent
            log.exception("outbox item %s to %s: unexpected error", item_id, openid)
            self._record_ambiguous(item_id, f"unexpected {type(exc).__name__} while sending")
        else:
            self._record_success(item_id, answer.get("msgid"))

    def _send(self, kind: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        if kind == "template":
            return self.api.send_template(payload, key)
        return self.api.send_custom(payload, key)

    def _record_ambiguous(self, item_id: int, error: str, only_if_sending: bool = False) -> None:
        def apply(item: OutboxItem, message: Message | None) -> None:
            if only_if_sending and item.status != "sending":
                return  # its worker recorded the outcome after all
            item.status = "ambiguous"
            item.last_error = error
            OUTBOX_SENDS.labels("ambiguous").inc()
            if message is not None:
                message.status = "ambiguous"
                message.error = error
                message.needs_agent = True
            log.error("outbox item %s to %s: %s; not resent, flagged for an agent",
                      item.id, item.openid, error)

        self._update(item_id, apply)

    def _record_success(self, item_id: int, msgid: object = None) -> None:
        def apply(item: OutboxItem, message: Message | None) -> None:
            item.status = "sent"
            item.sent_at = utcnow()
            OUTBOX_SENDS.labels("sent").inc()
            item.last_error = None
            # A template send's delivery report (TEMPLATESENDJOBFINISH) names this msgid.
            item.wechat_msgid = str(msgid) if msgid is not None else None
            if message is not None:
                message.status = "sent"
                message.delivery = item.kind
            log.info("outbox item %s to %s sent (attempt %s)", item.id, item.openid,
                     item.attempts)

        self._update(item_id, apply)

    def _record_failure(
        self, item_id: int, now: datetime, errmsg: str, errcode: int | None, retryable: bool
    ) -> None:
        error = f"{errcode} {errmsg}" if errcode is not None else errmsg

        def apply(item: OutboxItem, message: Message | None) -> None:
            item.last_error = error
            if retryable and item.attempts < self.config.max_attempts:
                item.status = "pending"
                item.next_attempt_at = now + self.backoff(item.attempts)
                OUTBOX_SENDS.labels("retry").inc()
                log.warning("outbox item %s to %s failed (attempt %s: %s); retry at %s",
                            item.id, item.openid, item.attempts, error, item.next_attempt_at)
                return
            item.status = "failed"
            OUTBOX_SENDS.labels("failed").inc()
            if message is not None:
                message.status = "failed"
                message.error = error
                message.needs_agent = True
            log.error("outbox item %s to %s given up after %s attempts: %s",
                      item.id, item.openid, item.attempts, error)

        self._update(item_id, apply)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential: base, 2×base, 4×base … capped at backoff_max_seconds."""
        seconds = self.config.backoff_base_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.config.backoff_max_seconds))

    def _update(self, item_id: int, apply: Callable[[OutboxItem, Message | None], None]) -> None:
        """Change an item and its message in one transaction, then tell on_change.

        What happened at WeChat must be recorded, so a database that is briefly away is
        waited for (within half the lease; after it the item counts as ambiguous)."""
        give_up = time.monotonic() + self.lease.total_seconds() / 2
        delay = 0.2
        while True:
            try:
                self._update_once(item_id, apply)
                return
            except Exception:
                if time.monotonic() + delay > give_up or self._stop.is_set():
                    raise
                log.warning("outbox item %s: recording the outcome failed; retrying", item_id)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _update_once(self, item_id: int,
                     apply: Callable[[OutboxItem, Message | None], None]) -> None:
        with self.sessions() as session:
            with session.begin():
                item = session.get(OutboxItem, item_id, with_for_update=True)
                if item is None:
                    return
                message = session.get(Message, item.message_id) if item.message_id else None
                apply(item, message)
                session.flush()
                session.expunge(item)  # keep its loaded state for on_change after commit
            self._notify(item)

    def _notify(self, item: OutboxItem) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(item)
        except Exception:  # a listener's bug must not undo a recorded send
            log.exception("outbox on_change failed for item %s", item.id)

    def _wake_after_commit(self, _session: Session) -> None:
        self._wake.set()


def run_worker(outbox: Outbox, stop_event: threading.Event,
               jobs: Sequence[Callable[[], object]] = ()) -> None:
    """Deliver until `stop_event` is set: the loop of `wuye worker` and of the background thread.

    `jobs` run once per poll (each decides itself whether it is due, like Sweeper.tick)."""
    log.info("outbox worker started (poll every %ss)", outbox.config.poll_seconds)
    while not stop_event.is_set():
        for job in jobs:
            try:
                job()
            except Exception as exc:  # the database or Redis may be briefly away
                log.warning("worker job %s failed: %s", getattr(job, "__qualname__", job),
                            type(exc).__name__)
        try:
            attempted = outbox.run_once()
        except Exception as exc:  # the database may be briefly away; keep polling
            log.warning("outbox poll failed: %s", type(exc).__name__)
            attempted = 0
        if attempted < outbox.config.batch_size:
            outbox.wait_for_wake(outbox.config.poll_seconds)
    log.info("outbox worker stopped")

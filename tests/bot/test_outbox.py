"""The outbox on SQLite and PostgreSQL, sending to the loopback fake WeChat API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis as redis_lib
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.fake_wechat import FakeWechatApi
from bot.outbox import Outbox, run_worker
from bot.wechat_api import WechatApi, custom_text, template_message
from core.config import Config
from core.db import make_engine, make_session_factory, transaction, utcnow
from core.models import Message, OutboxItem


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture()
def api(wechat_config: Config, redis_client: redis_lib.Redis) -> Iterator[WechatApi]:
    api = WechatApi(wechat_config.wechat, redis_client)
    yield api
    api.close()


@pytest.fixture()
def changes() -> list[tuple[int, str, int]]:
    return []


@pytest.fixture()
def outbox(
    sessions: sessionmaker[Session], api: WechatApi, wechat_config: Config,
    changes: list[tuple[int, str, int]],
) -> Iterator[Outbox]:
    box = Outbox(sessions, api, wechat_config.outbox,
                 on_change=lambda item: changes.append((item.id, item.status, item.attempts)))
    yield box
    box.stop()


def _reply(outbox: Outbox, sessions: sessionmaker[Session], openid: str, text: str) -> int:
    """Store an outbound message and its send together, as the bot does; return the message id."""
    with transaction(sessions) as session:
        message = Message(openid=openid, direction="out", msg_type="text", text=text,
                          sender="bot", status="queued")
        session.add(message)
        session.flush()
        outbox.enqueue(session, openid, "custom", custom_text(openid, text), message.id)
    return message.id


def _load(sessions: sessionmaker[Session], message_id: int) -> tuple[Message, OutboxItem]:
    with sessions() as session:
        message = session.get(Message, message_id)
        item = session.query(OutboxItem).filter_by(message_id=message_id).one()
        assert message is not None
        return message, item


def test_enqueued_reply_is_delivered_and_marked_sent(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
    changes: list[tuple[int, str, int]],
) -> None:
    message_id = _reply(outbox, sessions, "o-1", "您好，您的报修已受理。")
    assert outbox.run_once() == 1
    assert fake_wechat.sent_to("o-1") == [custom_text("o-1", "您好，您的报修已受理。")]
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts, item.sent_at is not None) == ("sent", 1, True)
    assert (message.status, message.delivery) == ("sent", "custom")
    assert changes == [(item.id, "sent", 1)]
    assert outbox.run_once() == 0


def test_template_items_go_to_the_template_endpoint(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    with transaction(sessions) as session:
        outbox.enqueue(session, "o-2", "template", template_message("o-2", "TPL", {"first": "x"}))
    assert outbox.run_once() == 1
    assert fake_wechat.sent == [template_message("o-2", "TPL", {"first": "x"})]
    with pytest.raises(ValueError):
        outbox.enqueue(Session(), "o-2", "sms", {})


def test_nothing_is_sent_before_the_caller_commits(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    with sessions() as session:
        outbox.enqueue(session, "o-1", "custom", custom_text("o-1", "a"))
        session.flush()
        assert outbox.run_once() == 0
        session.rollback()
    assert outbox.run_once() == 0
    assert fake_wechat.sent == []


def test_errors_are_retried_with_backoff_and_delivered_on_third_attempt(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
    changes: list[tuple[int, str, int]],
) -> None:
    message_id = _reply(outbox, sessions, "o-1", "工单进度更新")
    fake_wechat.fail_next(2)  # -1 system busy, twice
    start = utcnow()

    assert outbox.run_once(now=start) == 1
    _, item = _load(sessions, message_id)
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, "-1 system error")
    assert item.next_attempt_at == start + timedelta(seconds=0.01)
    assert outbox.run_once(now=start) == 0  # not due yet

    second = start + timedelta(seconds=1)
    assert outbox.run_once(now=second) == 1
    _, item = _load(sessions, message_id)
    assert item.next_attempt_at == second + timedelta(seconds=0.02)

    assert outbox.run_once(now=second + timedelta(seconds=1)) == 1
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts, message.status) == ("sent", 3, "sent")
    assert len(fake_wechat.sent_to("o-1")) == 1
    assert [c[1] for c in changes] == ["pending", "pending", "sent"]


def test_backoff_is_exponential_and_capped(outbox: Outbox) -> None:
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4, 9)] == [
        0.01, 0.02, 0.04, 0.04, 0.04]


def test_after_max_attempts_the_item_fails_and_the_message_needs_an_agent(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
    changes: list[tuple[int, str, int]],
) -> None:
    message_id = _reply(outbox, sessions, "o-1", "请联系 13800001111")
    fake_wechat.fail_next(5, http_status=500)
    now = utcnow()
    for _ in range(5):
        outbox.run_once(now=now)
        now += timedelta(seconds=1)
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts) == ("failed", 3)
    assert (message.status, message.needs_agent) == ("failed", True)
    assert message.error == item.last_error and "HTTP 500" in item.last_error
    assert changes[-1] == (item.id, "failed", 3) and len(changes) == 3
    assert fake_wechat.sent == []


def test_a_permanent_error_fails_at_once(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    message_id = _reply(outbox, sessions, "o-1", "超过48小时")
    fake_wechat.fail_next(1, errcode=45015)
    outbox.run_once()
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts, message.needs_agent) == ("failed", 1, True)
    assert item.last_error is not None and item.last_error.startswith("45015")


def test_concurrent_workers_never_send_twice(
    engine: Engine, api: WechatApi, wechat_config: Config, fake_wechat: FakeWechatApi,
) -> None:
    """Two workers, each with its own engine and connection, race over the same due items."""
    count = 30
    workers = [Outbox(make_session_factory(make_engine(str(engine.url.render_as_string(False)))),
                      api, wechat_config.outbox) for _ in range(2)]
    with transaction(make_session_factory(engine)) as session:
        for n in range(count):
            workers[0].enqueue(session, f"o-{n}", "custom", custom_text(f"o-{n}", str(n)))
    barrier = threading.Barrier(len(workers))
    attempted: list[int] = []

    def drain(box: Outbox) -> None:
        barrier.wait()
        while (done := box.run_once()) > 0:
            attempted.append(done)

    threads = [threading.Thread(target=drain, args=(box,)) for box in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    touched = sorted(body["touser"] for body in fake_wechat.sent)
    assert touched == sorted(f"o-{n}" for n in range(count))
    assert sum(attempted) == count
    for box in workers:
        box.sessions.kw["bind"].dispose()


def test_background_worker_delivers_right_after_commit(
    sessions: sessionmaker[Session], api: WechatApi, wechat_config: Config,
    fake_wechat: FakeWechatApi,
) -> None:
    slow = Outbox(sessions, api, wechat_config.outbox.__class__(poll_seconds=30))
    slow.start_background()
    try:
        _reply(slow, sessions, "o-1", "马上送达")
        fake_wechat.wait_for_sent(1, timeout=5)  # well before the 30 s poll
    finally:
        slow.stop()


def test_run_worker_stops_when_asked(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(outbox, stop))
    thread.start()
    _reply(outbox, sessions, "o-1", "你好")
    fake_wechat.wait_for_sent(1, timeout=5)
    stop.set()
    outbox.wake()
    thread.join(5)
    assert not thread.is_alive()


def test_an_item_left_sending_by_a_dead_worker_is_flagged_not_resent(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    """WeChat may have delivered it before the worker died: flag it, never send it twice."""
    message_id = _reply(outbox, sessions, "o-1", "迟到的回复")
    now = utcnow()
    with transaction(sessions) as session:  # what a worker that died mid-send leaves behind
        item = session.query(OutboxItem).filter_by(message_id=message_id).one()
        item.status, item.attempts, item.next_attempt_at = "sending", 1, now + outbox.lease
    assert outbox.run_once(now=now) == 0
    assert outbox.run_once(now=now + outbox.lease) == 0
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts) == ("ambiguous", 1)
    assert (message.status, message.needs_agent) == ("ambiguous", True)
    assert fake_wechat.sent == []


def test_a_timeout_after_wechat_accepted_is_recorded_ambiguous_and_not_resent(
    sessions: sessionmaker[Session], wechat_config: Config, redis_client: redis_lib.Redis,
    fake_wechat: FakeWechatApi,
) -> None:
    import dataclasses

    quick = dataclasses.replace(wechat_config.wechat, http_timeout_seconds=0.3)
    api = WechatApi(quick, redis_client)
    box = Outbox(sessions, api, wechat_config.outbox)
    try:
        message_id = _reply(box, sessions, "o-1", "您好")
        fake_wechat.accept_then_hang(1, 5)
        box.run_once()
        fake_wechat.release()
        for _ in range(3):
            box.run_once(now=utcnow() + timedelta(hours=1))
        message, item = _load(sessions, message_id)
        assert (item.status, message.needs_agent) == ("ambiguous", True)
        assert fake_wechat.keys() == [item.idempotency_key]
    finally:
        api.close()


def test_the_same_reply_cannot_be_queued_twice(
    outbox: Outbox, sessions: sessionmaker[Session],
) -> None:
    from sqlalchemy.exc import IntegrityError

    with transaction(sessions) as session:
        outbox.enqueue(session, "o-1", "custom", custom_text("o-1", "a"), key="reply:1:0")
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        outbox.enqueue(session, "o-1", "custom", custom_text("o-1", "a"), key="reply:1:0")


def test_rate_limited_45047_backs_off_and_a_refused_token_is_refreshed(
    outbox: Outbox, sessions: sessionmaker[Session], fake_wechat: FakeWechatApi,
) -> None:
    message_id = _reply(outbox, sessions, "o-1", "您好")
    fake_wechat.fail_next(1, errcode=45047)
    start = utcnow()
    assert outbox.run_once(now=start) == 1
    _, item = _load(sessions, message_id)
    assert (item.status, item.next_attempt_at) == ("pending", start + outbox.backoff(1))
    fake_wechat.fail_next(1, errcode=40001)  # refused before delivery: new token, same send
    assert outbox.run_once(now=start + timedelta(seconds=1)) == 1
    message, item = _load(sessions, message_id)
    assert (item.status, item.attempts, message.status) == ("sent", 2, "sent")
    assert fake_wechat.keys() == [item.idempotency_key]

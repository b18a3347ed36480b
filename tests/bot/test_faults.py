"""Faults on real servers: nothing lost, nothing processed twice, nothing sent twice.

Each test runs the app over HTTP (threaded, as `wuye serve` does) on its own
PostgreSQL cluster and Redis server, which it stops, kills and restarts, with
the outbox worker and the sweeper in the background. A bounded stream of signed
pushes comes from a few threads playing WeChat: a push answered with anything
but 200 (or not in time) is sent again, as WeChat does. Afterwards the ledger
must balance: every push stored once and answered once (passively within the
budget, or through the outbox), and the database's delivery status agrees with
what the fake WeChat API received.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import requests
from sqlalchemy import create_engine, select, text

from bot.fake_wechat import FakeWechatApi
from bot.inbound import parse_inbound
from bot.push import WechatPusher, build_xml
from bot.wechat_api import custom_text
from core.config import Config
from core.db import transaction, upgrade
from core.models import Message, OutboxItem
from tests.conftest import make_config
from tests.servers import PostgresCluster, RedisProcess

BUDGET = 1.5
QUESTION = "物业电话多少"  # one FAQ answer: one reply per push


# -- servers this module may break -------------------------------------------------------

@pytest.fixture(scope="module")
def fault_redis() -> Iterator[RedisProcess]:
    server = RedisProcess().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    engine = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE wuye_fault_template"))
    engine.dispose()
    upgrade(cluster.url.rsplit("/", 1)[0] + "/wuye_fault_template")
    yield cluster
    cluster.remove()


@pytest.fixture()
def fault_db(fault_postgres: PostgresCluster) -> Iterator[str]:
    """A fresh database per test; dropped with a new connection (the server may have restarted)."""
    name = f"wuye_{uuid.uuid4().hex[:12]}"
    admin = create_engine(fault_postgres.url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE wuye_fault_template'))
    yield fault_postgres.url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def fault_config(tmp_path: Path, fault_db: str, fault_redis: RedisProcess, model_dir: Path,
                 fake_wechat: FakeWechatApi) -> Config:
    redis_lib.Redis.from_url(fault_redis.url).flushall()
    return make_config(
        tmp_path,
        database={"url": fault_db},
        redis={"url": fault_redis.url, "socket_timeout_seconds": 0.5},
        nlu={"model_dir": str(model_dir)},
        wechat={"api_base": fake_wechat.base_url, "reply_budget_seconds": BUDGET,
                "processing_lease_seconds": 2.0, "http_timeout_seconds": 0.5},
        outbox={"poll_seconds": 0.05, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2,
                "max_attempts": 8, "lease_seconds": 1.5, "sweep_seconds": 0.2},
    )


@pytest.fixture()
def stack(fault_config: Config) -> Iterator[tuple[str, Any]]:
    """The app served over HTTP, with its outbox worker and sweeper thread running."""
    from tests.live import live_server
    from wuye.app import create_app
    from wuye.services import build_services

    services = build_services(fault_config, migrate=False)
    app = create_app(fault_config, services=services, background=True)
    with live_server(app) as url:
        yield url, services


# -- WeChat's side --------------------------------------------------------------------

class _TimedSession:
    """WeChat gives up on an answer after 5 s; so does this client (after budget + slack)."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.post(url, timeout=BUDGET + 3, **kwargs)


@dataclass
class Delivery:
    openid: str
    status: int = 0
    body: str = ""
    replies: list[dict[str, Any]] | None = None
    attempts: int = 0
    seconds: float = 0.0  # of the attempt that got the final answer
    slowest: float = 0.0  # of every attempt, refused ones included
    timeouts: int = 0  # attempts that got no answer at all


def wechat_push(url: str, token: str, openid: str, give_up_at: float,
                event: bool = False) -> Delivery:
    """One push, sent again after any non-200 answer or a timeout, until it is accepted."""
    pusher = WechatPusher(url, token, "wx0000000000demo", session=_TimedSession())
    extra = {"Event": "subscribe"} if event else {"Content": QUESTION,
                                                   "MsgId": uuid.uuid4().int % 10**18}
    xml = build_xml(pusher.fields(openid, "event" if event else "text", **extra))
    outcome = Delivery(openid)
    while time.monotonic() < give_up_at:
        outcome.attempts += 1
        started = time.monotonic()
        try:
            result = pusher.push_xml(xml)
        except requests.RequestException:
            outcome.timeouts += 1
            time.sleep(0.2)
            continue
        outcome.seconds = time.monotonic() - started
        outcome.slowest = max(outcome.slowest, outcome.seconds)
        outcome.status, outcome.body, outcome.replies = (result.status_code, result.body,
                                                         result.replies)
        if result.status_code == 200:
            return outcome
        assert result.status_code in (503,), result.body  # never a 500, never a 4xx
        time.sleep(0.2)
    return outcome


def push_stream(url: str, token: str, count: int, spread_seconds: float,
                prefix: str) -> list[Delivery]:
    """`count` pushes from 8 threads, spread over `spread_seconds`; each a new resident."""
    start = time.monotonic()
    give_up_at = start + spread_seconds + 30

    def one(n: int) -> Delivery:
        time.sleep(max(0.0, start + spread_seconds * n / count - time.monotonic()))
        return wechat_push(url, token, f"{prefix}{n:04d}", give_up_at, event=n % 5 == 4)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def during(schedule: list[tuple[float, Callable[[], None]]]) -> threading.Thread:
    """Run fault actions at their offsets (seconds) in a thread."""
    def run() -> None:
        start = time.monotonic()
        for at, action in schedule:
            time.sleep(max(0.0, start + at - time.monotonic()))
            action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# -- the ledger -------------------------------------------------------------------------

def settle(services: Any, timeout: float = 40.0) -> None:
    """Wait until no push is unfinished and no send is pending or in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with services.sessions() as session:
                busy = session.scalar(select(Message.id).where(
                    Message.direction == "in",
                    Message.status.in_(("received", "processing"))).limit(1))
                sending = session.scalar(select(OutboxItem.id).where(
                    OutboxItem.status.in_(("pending", "sending"))).limit(1))
            if busy is None and sending is None:
                return
        except Exception:  # the database may still be coming back
            pass
        time.sleep(0.2)
    raise AssertionError("pushes or sends still unfinished after the faults ended")


def check_ledger(services: Any, fake: FakeWechatApi, deliveries: list[Delivery]) -> dict[str, int]:
    """0 lost, 0 processed twice, 0 sent twice, and the database agrees with WeChat."""
    fake.release()
    time.sleep(0.3)  # an injected delay that was released records its send now
    with services.sessions() as session:
        inbound = {m.openid: m for m in session.scalars(
            select(Message).where(Message.direction == "in"))}
        replies: dict[int, list[Message]] = {}
        for message in session.scalars(select(Message).where(Message.direction == "out")):
            replies.setdefault(message.in_reply_to or 0, []).append(message)
        items = {item.message_id: item for item in session.scalars(select(OutboxItem))}
    assert all(d.status == 200 for d in deliveries), [d for d in deliveries if d.status != 200]
    assert sorted(inbound) == sorted(d.openid for d in deliveries)  # each stored, once
    received = fake.keys()
    assert len(received) == len(set(received)), "a reply was sent twice"
    counts = {"passive": 0, "sent": 0, "ambiguous": 0, "failed": 0,
              "retried": sum(d.attempts > 1 for d in deliveries)}
    for delivery in deliveries:
        message = inbound[delivery.openid]
        assert message.status == "processed", (message.id, message.status, message.error)
        answer = replies.get(message.id, [])
        assert len(answer) == 1, f"push {message.id} answered {len(answer)} times"
        reply = answer[0]
        if reply.delivery == "passive":
            # Recorded as sent only when it really went back, within WeChat's wait.
            assert reply.status == "sent" and delivery.replies
            assert delivery.replies[0]["text"] == reply.text
            assert delivery.seconds <= BUDGET + 0.5
            counts["passive"] += 1
            continue
        assert delivery.body == "success"
        item = items[reply.id]
        assert item.status in ("sent", "ambiguous", "failed"), item.status
        assert reply.status == item.status
        if item.status == "sent":
            assert item.idempotency_key in received
        elif item.status == "failed":
            assert item.idempotency_key not in received and reply.needs_agent
        else:
            assert reply.needs_agent
        counts[item.status] += 1
    sent_keys = {i.idempotency_key for i in items.values() if i.status == "sent"}
    unknown = {i.idempotency_key for i in items.values() if i.status == "ambiguous"}
    assert set(received) <= sent_keys | unknown
    return counts


# -- the faults ----------------------------------------------------------------------------

def test_redis_killed_and_restarted_mid_stream(stack: tuple[str, Any],
                                               fault_redis: RedisProcess,
                                               fake_wechat: FakeWechatApi) -> None:
    url, services = stack
    faults = during([(0.8, fault_redis.kill), (2.3, fault_redis.start)])
    deliveries = push_stream(url, services.config.wechat.token, 50, 3.5, "o_redis_")
    faults.join(10)
    settle(services)
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["retried"] > 0  # the fault did bite: some pushes were refused, then stored


def test_redis_hung_mid_stream_is_answered_within_the_budget(
        stack: tuple[str, Any], fault_redis: RedisProcess, fake_wechat: FakeWechatApi) -> None:
    """A Redis that stops answering (SIGSTOP) must not hold pushes past WeChat's wait."""
    url, services = stack
    faults = during([(0.8, fault_redis.pause), (2.8, fault_redis.resume)])
    deliveries = push_stream(url, services.config.wechat.token, 40, 3.5, "o_hung_")
    faults.join(10)
    settle(services)
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["retried"] > 0
    assert max(d.slowest for d in deliveries) <= BUDGET + 0.5  # refusals were in time too
    assert sum(d.timeouts for d in deliveries) == 0


def test_postgres_restarted_mid_stream(stack: tuple[str, Any], fault_postgres: PostgresCluster,
                                       fake_wechat: FakeWechatApi) -> None:
    url, services = stack
    faults = during([(0.8, fault_postgres.stop), (2.3, fault_postgres.start)])
    deliveries = push_stream(url, services.config.wechat.token, 50, 3.5, "o_pg_")
    faults.join(20)
    settle(services)
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["retried"] > 0


def test_messages_table_locked_longer_than_the_budget(stack: tuple[str, Any],
                                                      fake_wechat: FakeWechatApi) -> None:
    url, services = stack

    def lock_messages() -> None:
        with transaction(services.sessions) as session:
            session.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
            time.sleep(BUDGET + 1.5)

    faults = during([(0.8, lock_messages)])
    deliveries = push_stream(url, services.config.wechat.token, 40, 3.0, "o_lock_")
    faults.join(10)
    settle(services)
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["retried"] > 0
    assert max(d.slowest for d in deliveries) <= BUDGET + 0.5
    assert sum(d.timeouts for d in deliveries) == 0


def test_wechat_api_failures_never_duplicate_a_send(stack: tuple[str, Any],
                                                    fake_wechat: FakeWechatApi) -> None:
    """Every reply goes through the outbox (each turn is held past the budget), while the
    fake WeChat API fails in every way it can."""
    url, services = stack
    count = 30
    openids = [f"o_api_{n:04d}" for n in range(count)]

    def held_push(openid: str) -> Delivery:
        # A console action holds the conversation past the budget: the turn finishes late.
        services.redis.lock(f"wuye:turn:{openid}", timeout=BUDGET + 0.8).acquire()
        return wechat_push(url, services.config.wechat.token, openid, give_up_at)

    fake_wechat.fail_next(2, http_status=502)
    fake_wechat.fail_next(2, errcode=40001)  # token refreshed, then the send is retried
    fake_wechat.fail_next(1, errcode=45015)  # outside the 48-hour window: flagged
    fake_wechat.fail_next(2, errcode=45047)  # rate limited: backed off
    fake_wechat.fail_next(1, errcode=-1, delay=1.0)  # times out before WeChat accepts
    fake_wechat.delay_next(1, 1.0)  # times out, but WeChat accepts it afterwards
    fake_wechat.accept_then_hang(1, 1.0)  # accepted, the answer never comes in time
    give_up_at = time.monotonic() + 30
    with ThreadPoolExecutor(4) as pool:
        deliveries = list(pool.map(held_push, openids))
    settle(services)
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["passive"] == 0 and counts["failed"] == 1 and counts["ambiguous"] == 3
    assert counts["sent"] == count - 4
    assert fake_wechat.token_requests >= 2  # 40001 made the client fetch a new token


def test_interrupted_processing_is_recovered_by_the_sweeper(stack: tuple[str, Any],
                                                            fake_wechat: FakeWechatApi) -> None:
    """A web process killed mid-turn leaves its pushes `processing`; after the lease the
    sweeper answers them once, through the outbox, and a retry meanwhile does not."""
    url, services = stack
    token = services.config.wechat.token
    pusher = WechatPusher(url, token, "wx0000000000demo")
    stranded = []
    for n in range(5):
        xml = build_xml(pusher.fields(f"o_killed_{n}", "text", Content=QUESTION,
                                      MsgId=900 + n))
        claim = services.messages.store_inbound(parse_inbound(xml.encode()), xml,
                                                services.gateway.lease)
        assert claim is not None
        stranded.append((f"o_killed_{n}", xml))
    retry = pusher.push_xml(stranded[0][1])  # WeChat's retry while the lease still runs
    assert retry.status_code == 200 and retry.body == "success"
    deadline = time.monotonic() + 20
    while len(fake_wechat.sent) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    settle(services)
    deliveries = [Delivery(openid, 200, "success", [], 1) for openid, _ in stranded]
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["sent"] == 5


def test_web_process_killed_mid_turn_is_answered_once_by_the_sweeper(
        stack: tuple[str, Any], fault_config: Config, fake_wechat: FakeWechatApi,
        tmp_path: Path) -> None:
    """A real `wuye serve` is SIGKILLed while its turns run; WeChat's retries reach another
    process, which does not process them again; the sweeper answers each once."""
    from tests.servers import free_port

    url, services = stack
    port = free_port()
    # Its own process group: gunicorn's master and workers die together, as on a crash.
    server = subprocess.Popen([_wuye(), "serve", "--port", str(port)],
                              env=_env(fault_config, tmp_path), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    victim = f"http://127.0.0.1:{port}"
    openids = [f"o_victim_{n}" for n in range(3)]
    try:
        _wait_ready(victim)
        for openid in openids:  # each turn waits on its conversation: killed mid-turn
            services.redis.lock(f"wuye:turn:{openid}", timeout=10).acquire()
            services.redis.lock(f"wuye:turn:{openid}_k", timeout=10).acquire()
        give_up_at = time.monotonic() + 1.0
        with ThreadPoolExecutor(3) as pool:
            first = list(pool.map(lambda o: wechat_push(victim, services.config.wechat.token, o,
                                                        give_up_at), openids))
            # (the pushes above ended at the budget with `success`; the ones below are killed)
            killed = [pool.submit(_push_fixed, victim, services.config.wechat.token, f"{o}_k")
                      for o in openids]
            time.sleep(0.8)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
            stranded = [f.result() for f in killed]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    assert all(d.status == 200 and d.body == "success" for d in first), first
    assert [status for status, _ in stranded] == [None] * 3  # the connection died with it
    retries = [_push_fixed(url, services.config.wechat.token, "", xml) for _, xml in stranded]
    assert [status for status, _ in retries] == [200] * 3  # stored already, lease running
    services.redis.delete(*[f"wuye:turn:{o}{k}" for o in openids for k in ("", "_k")])
    settle(services)
    deliveries = [Delivery(d.openid, 200, "success", [], 1) for d in first]
    deliveries += [Delivery(f"{o}_k", 200, "success", [], 2) for o in openids]
    counts = check_ledger(services, fake_wechat, deliveries)
    assert counts["sent"] == 6


def _push_fixed(url: str, token: str, openid: str, xml: str = "") -> tuple[int | None, str]:
    """One attempt of one push (the same XML when given, as WeChat's retry sends)."""
    pusher = WechatPusher(url, token, "wx0000000000demo", session=_TimedSession())
    if not xml:
        xml = build_xml(pusher.fields(openid, "text", Content=QUESTION,
                                      MsgId=uuid.uuid4().int % 10**18))
    try:
        return pusher.push_xml(xml).status_code, xml
    except requests.RequestException:
        return None, xml


def _wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("wuye serve did not start")


def test_worker_killed_mid_send_is_not_sent_again(fault_config: Config, fault_db: str,
                                                  fake_wechat: FakeWechatApi,
                                                  tmp_path: Path) -> None:
    """`wuye worker` SIGKILLed while WeChat holds its send: the send is flagged, not resent."""
    from wuye.services import build_services

    services = build_services(fault_config, migrate=False)
    try:
        with transaction(services.sessions) as session:
            for n in range(3):
                message_id = services.messages.add_outbound(
                    session, f"o_w_{n}", _reply(f"工单进度{n}"), "custom", "queued")
                services.outbox.enqueue(session, f"o_w_{n}", "custom",
                                        custom_text(f"o_w_{n}", f"工单进度{n}"), message_id,
                                        key=f"test:{n}")
        fake_wechat.accept_then_hang(1, 30)
        worker = _start_worker(fault_config, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while not fake_wechat.keys() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake_wechat.keys(), "the worker never sent"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        fake_wechat.release()
        time.sleep(fault_config.outbox.lease_seconds + 0.2)
        for _ in range(20):
            services.outbox.run_once()
        with services.sessions() as session:
            items = {i.idempotency_key: i.status for i in session.scalars(select(OutboxItem))}
        received = fake_wechat.keys()
        assert len(received) == len(set(received)) == 3
        first = received[0]
        assert items[first] == "ambiguous"  # WeChat has it; we cannot know: flagged, not resent
        assert sorted(k for k, s in items.items() if s == "sent") == sorted(
            k for k in received if k != first)
        assert set(items.values()) <= {"sent", "ambiguous"}
    finally:
        services.close()


def _reply(text_: str) -> Any:
    from bot.replies import Reply

    return Reply(text=text_)


def _wuye() -> str:
    return str(Path(sys.executable).parent / "wuye")


def _start_worker(config: Config, tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([_wuye(), "worker"], env=_env(config, tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _env(config: Config, tmp_path: Path) -> dict[str, str]:
    """The config as environment variables, for a `wuye` subprocess."""
    return {
        **os.environ,
        "WUYE_SERVER_SECRET_KEY": "fault-tests-not-the-built-in-key-0123456789",
        "WUYE_DATABASE_URL": config.database.url,
        "WUYE_REDIS_URL": config.redis.url,
        "WUYE_WECHAT_API_BASE": config.wechat.api_base,
        "WUYE_WECHAT_HTTP_TIMEOUT_SECONDS": "30",
        "WUYE_NLU_MODEL_DIR": config.nlu.model_dir,
        "WUYE_VAR_DIR": str(tmp_path / "worker-var"),
        "WUYE_OUTBOX_POLL_SECONDS": "0.05",
        "WUYE_OUTBOX_LEASE_SECONDS": str(config.outbox.lease_seconds),
        "WUYE_WECHAT_REPLY_BUDGET_SECONDS": str(config.wechat.reply_budget_seconds),
        "WUYE_WECHAT_PROCESSING_LEASE_SECONDS": str(config.wechat.processing_lease_seconds),
        "WUYE_REDIS_SOCKET_TIMEOUT_SECONDS": str(config.redis.socket_timeout_seconds),
    }

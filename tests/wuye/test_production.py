"""The production stack end to end on loopback: PostgreSQL, Redis, gunicorn with two
workers, `wuye worker` and nginx (deploy/ files), WeChat's API faked on loopback.

Signed pushes go through nginx and get passive replies; an agent's reply goes out
through the outbox, sent by the worker process; no log carries a signed URL.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.fake_wechat import FakeWechatApi
from bot.push import WechatPusher
from tests.conftest import _fresh_postgres
from tests.prodstack import Stack, production_stack

pytestmark = pytest.mark.prod_stack

TOKEN, APPID = "prod-smoke-token", "wx00000000smoke"
SECRET_KEY = "prod-smoke-secret-key-0123456789"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeWechatApi]:
    with FakeWechatApi(appid=APPID, secret="smoke-secret") as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str,
          postgres_template: str, redis_url: str, model_dir: Path,
          fake_api: FakeWechatApi) -> Iterator[Stack]:
    databases = _fresh_postgres(postgres_admin_url, postgres_template)
    db_url = next(databases)
    settings = {
        "WUYE_DATABASE_URL": db_url,
        "WUYE_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/5",
        "WUYE_SERVER_SECRET_KEY": SECRET_KEY,
        "WUYE_SERVER_THREADS": "4",
        "WUYE_SERVER_READ_TIMEOUT_SECONDS": "2",
        "WUYE_NLU_MODEL_DIR": str(model_dir),
        "WUYE_WECHAT_TOKEN": TOKEN,
        "WUYE_WECHAT_APPID": APPID,
        "WUYE_WECHAT_SECRET": "smoke-secret",
        "WUYE_WECHAT_API_BASE": fake_api.base_url,
        "WUYE_OUTBOX_POLL_SECONDS": "0.2",
    }
    try:
        with production_stack(tmp_path_factory.mktemp("prod"), settings, workers=2) as running:
            yield running
    finally:
        next(databases, None)


def pusher(stack: Stack) -> WechatPusher:
    return WechatPusher(stack.url, TOKEN, APPID)


def test_signed_pushes_through_nginx_get_passive_replies(stack: Stack) -> None:
    texts = ["物业费怎么交", "你好", "服务中心几点上班", "门禁卡丢了怎么办"] * 6

    def push(i: int) -> Any:
        return pusher(stack).text(f"o_smoke_{i}", texts[i])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(push, range(len(texts))))
    assert all(r.status_code == 200 for r in results), [r.status_code for r in results]
    assert all(r.replies and r.replies[0]["text"] for r in results)
    # Both gunicorn workers served: their pids differ in the access log's process ids.
    deadline = time.monotonic() + 10  # the access log is written after the response
    while stack.log_text("web").count('"POST /wechat"') < len(texts) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.log_text("web").count('"POST /wechat"') >= len(texts)


def test_an_agents_reply_is_sent_by_the_worker_process(
    stack: Stack, fake_api: FakeWechatApi
) -> None:
    assert agent_reply_status(stack, fake_api, "o_smoke_handover") == "sent"
    assert "outbox worker started" in stack.log_text("worker")
    assert "outbox worker started" not in stack.log_text("web")  # the web runs no sender


def agent_reply_status(stack: Stack, fake_api: FakeWechatApi, openid: str) -> str:
    """An agent takes `openid` over and replies; the outbox status once WeChat got it."""
    added = stack.wuye("user", "add", f"agent_{openid}", "--role", "agent",
                       stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "人工客服" in pusher(stack).text(openid, "转人工").text
    browser = requests.Session()
    page = browser.get(stack.url + "/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    signed_in = browser.post(stack.url + "/console/login", allow_redirects=False, data={
        "username": f"agent_{openid}", "password": PASSWORD, "csrf_token": csrf})
    assert signed_in.status_code == 302
    console = browser.get(stack.url + "/console")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', console.text).group(1)  # type: ignore[union-attr]
    headers = {"X-CSRF-Token": csrf}
    base = f"{stack.url}/console/api/conversations/{openid}"
    assert browser.post(base + "/take", json={}, headers=headers).status_code == 200
    reply = browser.post(base + "/reply", json={"text": "您好，师傅马上到"}, headers=headers)
    assert reply.status_code == 200
    deadline = time.monotonic() + 20
    while not fake_api.sent_to(openid) and time.monotonic() < deadline:
        time.sleep(0.1)
    sent = fake_api.sent_to(openid)
    assert [s["text"]["content"] for s in sent] == ["您好，师傅马上到"]
    engine = create_engine(stack.env["WUYE_DATABASE_URL"])
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM outbox WHERE openid = :o"),
                              {"o": openid}).scalar_one()
    engine.dispose()
    return str(status)


def test_logs_never_carry_signed_urls(stack: Stack) -> None:
    pusher(stack).text("o_smoke_log", "你好")
    time.sleep(0.5)  # nginx writes its access log line after the response
    nginx_log = (stack.logs / "wuye.access.log").read_text(encoding="utf-8")
    assert "POST /wechat " in nginx_log
    for name in ("web", "worker"):
        assert "signature=" not in stack.log_text(name), name
    assert "signature=" not in nginx_log and "nonce=" not in nginx_log


def test_headers_body_limit_and_metrics(stack: Stack) -> None:
    login = requests.get(stack.url + "/console/login")
    assert "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]
    assert login.headers["X-Frame-Options"] == "DENY"
    big = requests.post(stack.url + "/wechat", data=b"x" * 70_000)
    assert big.status_code == 413
    assert requests.get(stack.url + "/metrics").status_code == 404  # not through nginx
    scraped = requests.get(stack.app_url + "/metrics")
    assert scraped.status_code == 200
    assert 'wuye_pushes_total{outcome="replied"}' in scraped.text
    assert "wuye_request_seconds_bucket" in scraped.text
    assert "wuye_outbox_depth" in scraped.text
    assert requests.get(stack.url + "/readyz").json()["status"] == "ready"


def test_slow_clients_are_cut_off_and_cannot_starve_the_threads(stack: Stack) -> None:
    """More trickling connections than 2 workers x 4 threads: pushes still get through."""
    host, port = stack.app_url.removeprefix("http://").split(":")
    slow = []
    for _ in range(12):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"POST /wechat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
        slow.append(sock)
    started = time.monotonic()
    direct = WechatPusher(stack.app_url, TOKEN, APPID).text("o_smoke_slow", "你好")
    assert direct.status_code == 200 and direct.replies
    assert time.monotonic() - started < 8
    # Each is closed after the 2 s read deadline, never left hanging; the bound is wide
    # because a loaded 2-core machine schedules the closes late, not because they may wait.
    give_up = started + 20
    for sock in slow:
        with sock:
            sock.settimeout(max(give_up - time.monotonic(), 0.5))
            try:
                sock.recv(1024)  # b"" (closed) or an error response
            except ConnectionResetError:
                pass
            except TimeoutError:
                pytest.fail("a trickling connection was held open past the read deadline")


def test_graceful_stop_finishes_in_flight_turns(stack: Stack) -> None:
    assert stack.stop("worker") == 0
    direct = WechatPusher(stack.app_url, TOKEN, APPID)
    with ThreadPoolExecutor(4) as pool:
        pushes = [pool.submit(direct.text, f"o_smoke_stop_{i}", "门禁卡丢了怎么办")
                  for i in range(4)]
        time.sleep(0.15)  # the pushes are being handled
        assert stack.stop("web") == 0
        results = [p.result() for p in pushes]
    assert all(r.status_code == 200 and r.replies for r in results)
    assert "Shutting down: Master" in stack.log_text("web")


def test_preloaded_workers_each_start_their_own_sender(
    tmp_path: Path, postgres_admin_url: str, postgres_template: str, redis_url: str,
    model_dir: Path, fake_api: FakeWechatApi,
) -> None:
    """Without `wuye worker` the web sends. The app is built once, in the master, then
    forked (gunicorn preload): threads do not survive a fork, so each worker starts its
    own sender, and each opens its own database and Redis connections."""
    databases = _fresh_postgres(postgres_admin_url, postgres_template)
    settings = {
        "WUYE_DATABASE_URL": next(databases),
        "WUYE_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/6",
        "WUYE_SERVER_SECRET_KEY": SECRET_KEY,
        "WUYE_SERVER_THREADS": "4",
        "WUYE_NLU_MODEL_DIR": str(model_dir),
        "WUYE_WECHAT_TOKEN": TOKEN,
        "WUYE_WECHAT_APPID": APPID,
        "WUYE_WECHAT_SECRET": "smoke-secret",
        "WUYE_WECHAT_API_BASE": fake_api.base_url,
        "WUYE_OUTBOX_POLL_SECONDS": "0.2",
    }
    try:
        with production_stack(tmp_path, settings, workers=2, with_worker=False) as stack:
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda i: pusher(stack).text(f"o_preload_{i}", "你好"),
                                        range(16)))
            assert all(r.status_code == 200 and r.replies for r in results)
            assert agent_reply_status(stack, fake_api, "o_preload_handover") == "sent"
            log = stack.log_text("web")
            assert log.count("services built in") == 1  # once, in the master
            assert log.count("outbox worker started") == 2  # once in each worker
    finally:
        next(databases, None)

"""The simulator end to end: headless Chromium, the real app on loopback, real pushes to /wechat."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import requests
from sqlalchemy import select

from bot.wechat_api import custom_text
from core.db import transaction
from core.models import Message
from tests.conftest import make_config
from tests.live import browser_marks, launch_chromium, live_server, new_page

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues

pytestmark = browser_marks


@dataclass
class LiveApp:
    url: str
    services: Any


@pytest.fixture(params=["", AES_KEY], ids=["plain", "safe-mode"])
def live_app(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str, redis_url: str,
    redis_client: redis_lib.Redis, model_dir: Path,
) -> Iterator[LiveApp]:
    """The demo app as `wuye serve` runs it: its own fake WeChat API, outbox thread and all."""
    from wuye.app import create_app

    config = make_config(
        tmp_path,
        server={"demo": True},
        database={"url": sqlite_url},
        redis={"url": redis_url},
        nlu={"model_dir": str(model_dir)},
        wechat={"aes_key": request.param},
        outbox={"poll_seconds": 0.2},
    )
    app = create_app(config)
    with live_server(app) as url:
        yield LiveApp(url, app.extensions["wuye"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture()
def page(browser: Any, live_app: LiveApp) -> Iterator[Any]:
    page = new_page(browser)
    page.goto(f"{live_app.url}/simulator")
    yield page
    page.context.close()


def _openid(page: Any) -> str:
    return str(page.locator("#openid").input_value())


def test_a_question_typed_in_the_page_is_answered(page: Any, live_app: LiveApp) -> None:
    page.fill("#input", "物业费怎么交")
    page.click("#send")
    answer = page.locator(".msg.bot .bubble").first
    answer.wait_for()
    assert "缴费" in answer.inner_text()
    assert page.locator(".msg.user .bubble").first.inner_text() == "物业费怎么交"
    with live_app.services.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).first()
    # The push really went through /wechat, signed (and encrypted in safe mode).
    assert inbound is not None and inbound.openid == _openid(page)


def test_menu_button_sends_a_click_event(page: Any, live_app: LiveApp) -> None:
    page.click(".menu button[data-key=MENU_FAQ]")
    page.locator(".msg.user .bubble", has_text="常见问题").wait_for()
    reply = page.locator(".msg.bot .bubble").first
    reply.wait_for()
    assert reply.inner_text().strip()
    assert page.locator(".note.error").count() == 0
    with live_app.services.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).first()
    assert inbound is not None and inbound.msg_type.startswith("event")
    assert "MENU_FAQ" in str(inbound.parsed)


def test_later_customer_service_messages_appear_as_bot_bubbles(
    page: Any, live_app: LiveApp
) -> None:
    openid = _openid(page)
    services = live_app.services
    with transaction(services.sessions) as session:
        services.outbox.enqueue(session, openid, "custom",
                                custom_text(openid, "您好，您的报修工单已派给工程部。"))
    bubble = page.locator(".msg.bot .bubble", has_text="已派给工程部")
    bubble.wait_for()
    assert "客服消息" in bubble.inner_text()


def test_bad_openid_is_refused_by_the_api(live_app: LiveApp) -> None:
    answer = requests.post(f"{live_app.url}/simulator/api/send",
                           json={"openid": "<script>", "kind": "text", "content": "你好"},
                           timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "bad_openid"


def test_api_pushes_encrypted_xml_in_safe_mode(live_app: LiveApp) -> None:
    answer = requests.post(f"{live_app.url}/simulator/api/send",
                           json={"openid": "o_api_1", "kind": "voice", "content": "物业费怎么交"},
                           timeout=20)
    assert answer.status_code == 200
    body = answer.json()
    assert body["encrypted"] is bool(live_app.services.config.wechat.aes_key)
    assert body["replies"] and "缴费" in body["replies"][0]["text"]

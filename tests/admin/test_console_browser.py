"""Handover end to end in headless Chromium: a resident in the simulator, an agent in the console.

Two pages on the live demo app: the resident asks for a person; the console
shows it without a reload; the agent takes over and replies; the resident sees
the reply (a customer-service message through the fake WeChat API); the agent
hands back; the bot answers the next question.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from admin.users import UserStore
from tests.admin.conftest import PASSWORD
from tests.conftest import make_config
from tests.live import browser_marks, launch_chromium, live_server, new_page

WEEKDAY_MORNING = "2026-11-18T10:00:00+08:00"

pytestmark = browser_marks


@pytest.fixture()
def live_url(tmp_path: Path, sqlite_url: str, redis_url: str, redis_client: redis_lib.Redis,
             model_dir: Path) -> Iterator[str]:
    """The demo app as `wuye serve --demo` runs it, console included, on a loopback port."""
    from wuye.app import create_app

    config = make_config(
        tmp_path, server={"demo": True}, database={"url": sqlite_url},
        redis={"url": redis_url}, nlu={"model_dir": str(model_dir)},
        outbox={"poll_seconds": 0.2}, handoff={"clock": WEEKDAY_MORNING},
    )
    app = create_app(config)
    services = app.extensions["wuye"]
    UserStore(services.sessions).create("wang", PASSWORD, "agent", "小王")
    with live_server(app) as url:
        yield url


@pytest.fixture()
def browser(live_url: str) -> Iterator[Any]:
    """Closed before the server stops, so open event streams end cleanly."""
    with launch_chromium() as chromium:
        yield chromium


def test_resident_asks_for_a_person_and_an_agent_answers_live(
    live_url: str, browser: Any
) -> None:
    agent = new_page(browser)
    agent.goto(f"{live_url}/console")  # anonymous: sent to the login page
    agent.fill("input[name=username]", "wang")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{live_url}/console")
    agent.locator("#live.on").wait_for()  # the event stream is connected

    resident = new_page(browser)
    resident.goto(f"{live_url}/simulator")
    openid = resident.locator("#openid").input_value()
    resident.fill("#input", "转人工")
    resident.click("#send")
    resident.locator(".msg.bot", has_text="已为您转接人工客服").wait_for()

    waiting = agent.locator(f"#queue-waiting li[data-openid='{openid}']")
    waiting.wait_for()  # appeared without a reload
    assert agent.locator("#badge").is_visible()
    waiting.click()
    agent.click("#btn-take")
    agent.locator("#btn-send:enabled").wait_for()

    resident.fill("#input", "我家卫生间漏水了")
    resident.click("#send")
    agent.locator("#history .msg.in", has_text="我家卫生间漏水了").wait_for()  # live, silent bot

    agent.fill("#reply-text", "/稍等")
    agent.press("#reply-text", "Tab")  # a canned reply, inserted by its shortcut
    assert agent.input_value("#reply-text").startswith("好的，请您稍等")
    agent.fill("#reply-text", "您好，我是客服专员小王，马上安排师傅上门。")
    agent.click("#btn-send")
    agent.locator("#history .msg.agent[data-status=sent]").wait_for()
    resident.locator(".msg.bot", has_text="马上安排师傅上门").wait_for()

    agent.click("#btn-handback")
    resident.locator(".msg.bot", has_text="智能客服小翠继续为您服务").wait_for()
    resident.fill("#input", "物业费怎么交")
    resident.click("#send")
    resident.locator(".msg.bot", has_text="缴费").wait_for()
    assert agent.locator(f"#queue-mine li[data-openid='{openid}']").count() == 0

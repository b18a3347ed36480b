"""The knowledge loop end to end in headless Chromium: residents ask the simulator what
the FAQ lacks; the admin finds them grouped in the unanswered queue, creates an entry
from the group, checks it in the hit test, and the bot answers the next resident."""

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

pytestmark = browser_marks

ANSWER = "您好，小区自助洗衣房在3栋负一层，24小时开放，扫码付费。请问还有什么可以帮您？"


@pytest.fixture()
def live_url(tmp_path: Path, sqlite_url: str, redis_url: str, redis_client: redis_lib.Redis,
             model_dir: Path) -> Iterator[str]:
    """The demo app as `wuye serve --demo` runs it, with an admin account."""
    from wuye.app import create_app

    config = make_config(
        tmp_path, server={"demo": True}, database={"url": sqlite_url},
        redis={"url": redis_url}, nlu={"model_dir": str(model_dir)},
        outbox={"poll_seconds": 0.2}, handoff={"clock": "2026-11-18T10:00:00+08:00"},
    )
    app = create_app(config)
    UserStore(app.extensions["wuye"].sessions).create("lead", PASSWORD, "admin", "主管")
    with live_server(app) as url:
        yield url


@pytest.fixture()
def browser(live_url: str) -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


def ask(page: Any, persona: str, text: str) -> str:
    """Be `persona` in the simulator, send `text`, return the bot's (first) reply."""
    if page.locator("#openid").input_value() != persona:
        page.select_option("#persona", persona)
    before = page.locator(".msg.bot").count()
    page.fill("#input", text)
    page.click("#send")
    page.wait_for_function("n => document.querySelectorAll('.msg.bot').length > n", arg=before)
    return str(page.locator(".msg.bot").nth(before).inner_text())


def test_missed_questions_become_an_entry_the_bot_then_answers(live_url: str,
                                                               browser: Any) -> None:
    resident = new_page(browser)
    resident.goto(f"{live_url}/simulator")
    for persona, text in (("demo_cuihu_502", "小区有没有洗衣房"),
                          ("demo_cuihu_502", "请问小区洗衣房在什么地方"),
                          ("demo_two_homes", "小区有洗衣房吗")):
        assert "洗衣房在3栋" not in ask(resident, persona, text)

    admin = new_page(browser)
    admin.goto(f"{live_url}/admin/unanswered")  # anonymous: sent to the login page
    admin.fill("input[name=username]", "lead")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("button[type=submit]")
    group = admin.locator(".group", has_text="洗衣房").first
    group.wait_for()
    assert group.get_attribute("data-count") == "3"
    assert "请问小区洗衣房在什么地方" in group.inner_text()

    group.locator("button.new-entry").click()  # the editor opens prefilled from the group
    admin.wait_for_url("**/admin/faq/new?**")
    assert "洗衣房" in admin.input_value("input[name=question]")
    assert "洗衣房" in admin.input_value("textarea[name=similar_questions]")
    admin.fill("input[name=id]", "laundry")
    admin.fill("textarea[name=answer]", ANSWER)
    admin.click("#faq-form button[type=submit]")
    admin.wait_for_url("**/admin/faq/laundry")

    admin.goto(f"{live_url}/admin/unanswered")
    assert admin.locator(".group", has_text="洗衣房").count() == 0  # resolved: gone

    admin.goto(f"{live_url}/admin/hit-test")
    admin.fill("#hit-text", "小区里有没有洗衣房呀")
    admin.click("#hit-run")
    result = admin.locator("#hit-result")
    result.wait_for()
    assert result.get_attribute("data-answer") == "laundry"
    assert "laundry" in admin.locator("#hit-candidates").inner_text()

    next_resident = ask(resident, "demo_lanwan_301", "小区里有没有洗衣房呀")
    assert "您好，小区自助洗衣房在3栋负一层" in next_resident

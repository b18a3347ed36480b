"""The simulator in headless Chromium: pick which resident to be, get their community's fee."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from tests.conftest import make_config
from tests.live import browser_marks, launch_chromium, live_server

pytestmark = browser_marks


@pytest.fixture()
def page(tmp_path: Path, sqlite_url: str, redis_url: str, redis_client: redis_lib.Redis,
         model_dir: Path) -> Iterator[Any]:
    from wuye.app import create_app

    config = make_config(tmp_path, server={"demo": True}, database={"url": sqlite_url},
                         redis={"url": redis_url}, nlu={"model_dir": str(model_dir)},
                         outbox={"poll_seconds": 0.2})
    app = create_app(config)
    with live_server(app) as url, launch_chromium() as chromium:
        context = chromium.new_context(locale="zh-CN")
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto(f"{url}/simulator")
        yield page
        context.close()


def ask(page: Any, text: str, expect: str) -> str:
    """Send, and wait for the next bot bubble (it must say `expect`)."""
    before = page.locator(".msg.bot .bubble").count()
    page.fill("#input", text)
    page.click("#send")
    reply = page.locator(".msg.bot .bubble").nth(before)
    reply.wait_for()
    said = str(reply.inner_text())
    assert expect in said
    return said


def test_each_demo_resident_gets_their_own_communitys_fee(page: Any) -> None:
    page.select_option("[data-testid=persona]", "demo_lanwan_301")
    assert page.locator("#openid").input_value() == "demo_lanwan_301"
    assert "3.2元" in ask(page, "物业费多少钱一平", "物业费")
    page.select_option("[data-testid=persona]", "demo_cuihu_502")
    assert "2.8元" in ask(page, "物业费多少钱一平", "物业费")
    page.select_option("[data-testid=persona]", "")  # an unbound newcomer
    assert page.locator("#openid").input_value().startswith("o_sim_")
    asked = ask(page, "物业费多少钱一平", "哪个小区")
    assert "1. 翠湖花园" in asked and "2. 蓝湾雅苑" in asked
    assert "3.2元" in ask(page, "2", "蓝湾雅苑")

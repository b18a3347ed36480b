"""The service desk end to end in headless Chromium, three people on three pages:
a resident files a repair with a photo in the simulator; the 工程部 head dispatches it
to a worker on the board; the worker accepts and completes it with a photo on the
phone page (390 px); the resident is told and rates it; an agent records the callback;
the KPI page shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from admin.users import UserStore
from desk.staff import Staff
from tests.conftest import make_config
from tests.desk.conftest import PASSWORD
from tests.live import browser_marks, launch_chromium, live_server, new_page

pytestmark = browser_marks
WEEKDAY_MORNING = "2026-11-18T10:00:00+08:00"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
                    "0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


@pytest.fixture()
def live_url(tmp_path: Path, sqlite_url: str, redis_url: str, redis_client: redis_lib.Redis,
             model_dir: Path) -> Iterator[str]:
    from wuye.app import create_app

    config = make_config(
        tmp_path, server={"demo": True}, database={"url": sqlite_url},
        redis={"url": redis_url}, nlu={"model_dir": str(model_dir)},
        outbox={"poll_seconds": 0.2}, handoff={"clock": WEEKDAY_MORNING})
    app = create_app(config)
    services = app.extensions["wuye"]
    users, staff = UserStore(services.sessions), Staff(services.sessions)
    for name, role, display, department, head in (
            ("zhang", "staff", "张主管", "工程部", True),
            ("li", "staff", "李师傅", "工程部", False),
            ("wang", "agent", "小王", None, False), ("boss", "admin", "陈主管", None, False)):
        user = users.create(name, PASSWORD, role, display)
        if department:
            staff.assign(user.id, department, head)
    with live_server(app) as url:
        yield url


@pytest.fixture()
def browser(live_url: str) -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


def page_for(browser: Any, width: int = 1280, height: int = 900) -> Any:
    return new_page(browser, width=width, height=height)


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def say(resident: Any, text: str, expect: str) -> Any:
    resident.fill("#input", text)
    resident.click("#send")
    found = resident.locator(".msg.bot", has_text=expect).last
    found.wait_for()
    return found


def test_a_repair_from_photo_to_callback_and_kpi(live_url: str, browser: Any,
                                                 tmp_path: Path) -> None:
    resident = page_for(browser, 420, 860)
    resident.goto(f"{live_url}/simulator")
    resident.select_option("#persona", "demo_cuihu_502")
    say(resident, "厨房水龙头漏水了", "上门")
    resident.on("dialog", lambda dialog: dialog.accept("https://example.com/photos/tap.jpg"))
    resident.click("#more")
    resident.click("button[data-action=image]")
    resident.locator(".msg.bot", has_text="照片已收到").wait_for()
    say(resident, "明天上午", "请您核对")
    done = say(resident, "确认", "BX").text_content() or ""
    number = re.search(r"BX\d{8}-\d{4}", done).group(0)  # type: ignore[union-attr]

    head = page_for(browser)
    sign_in(head, live_url, "zhang")
    head.goto(f"{live_url}/console/tickets?state=open")
    head.click(f"#board a:text('{number}')")
    head.locator("img.photo.resident").wait_for()  # the resident's photo, from WeChat's media API
    head.select_option("#dispatch-form select[name=worker_id]", label="李师傅")
    head.click("#dispatch-form button[type=submit]")
    head.locator("#assignee", has_text="李师傅").wait_for()

    worker = page_for(browser, 390, 844)
    sign_in(worker, live_url, "li")
    assert worker.url.endswith("/console/worker")
    worker.click(f"#mine a:has-text('{number}')")
    worker.click("#btn-accept")
    worker.click("#btn-start")
    photo = tmp_path / "done.png"
    photo.write_bytes(PNG)
    worker.set_input_files("#complete-form input[name=photo]", str(photo))
    worker.fill("#complete-form textarea[name=note]", "更换了阀芯")
    worker.click("#btn-complete")
    worker.locator("#state", has_text="已完成待确认").wait_for()
    assert worker.locator("img.photo.worker").count() == 1
    width = worker.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out of the phone's screen

    resident.locator(".msg.bot", has_text="已受理").wait_for()
    resident.locator(".msg.bot", has_text="评价").wait_for()
    say(resident, "满意", "感谢")

    agent = page_for(browser)
    sign_in(agent, live_url, "wang")
    agent.goto(f"{live_url}/console/callbacks")
    row = agent.locator(f"#callbacks tr[data-ticket='{number}']")
    row.locator("select[name=reached]").select_option("1")
    row.locator("select[name=satisfied]").select_option("1")
    row.locator("input[name=note]").fill("业主表示已修好")
    row.locator("button[type=submit]").click()
    agent.locator(".flash", has_text="回访结果已记录").wait_for()

    boss = page_for(browser)
    sign_in(boss, live_url, "boss")
    boss.goto(f"{live_url}/console/kpi")
    assert boss.locator("#kpi-callback_rate_repair .value").text_content() == "100.0%"
    assert boss.locator("#kpi-satisfaction_rate .value").text_content() == "100.0%"
    assert boss.locator("svg.chart").count() >= 3


def test_the_console_history_scrolls_in_its_own_pane_at_900_px(
        live_url: str, browser: Any) -> None:
    resident = page_for(browser, 420, 860)
    resident.goto(f"{live_url}/simulator")
    resident.select_option("#persona", "demo_cuihu_502")
    for i in range(12):
        say(resident, f"物业费怎么交{i}", "缴费")
    say(resident, "转人工", "人工客服")
    agent = page_for(browser, 1280, 900)
    sign_in(agent, live_url, "wang")
    agent.click("#queue-waiting li[data-openid='demo_cuihu_502']")
    agent.click("#btn-take")
    agent.locator("#btn-send:enabled").wait_for()
    box = agent.locator("#reply-text").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # the reply box stays on screen
    sizes = agent.evaluate("(() => { const h = document.querySelector('#history');"
                           " return [h.scrollHeight, h.clientHeight, h.scrollTop]; })()")
    assert sizes[0] > sizes[1] and sizes[2] > 0  # its own scroll, at the newest message
    assert agent.evaluate("document.documentElement.scrollHeight") <= 900
    assert agent.locator("#history .nlu", has_text="咨询").count() > 0  # intents in Chinese

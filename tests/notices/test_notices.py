"""Notices: targeting bound residents, template sends spread to the rate limit, WeChat's
delivery reports, scheduling, and residents asking the bot for recent notices."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

import pytest

from communities.directory import Communities
from core.db import transaction, utcnow
from core.models import Resident, RoomBinding
from core.models.knowledge_loop import Notice
from notices.service import Draft, NoticeError, NoticeService
from tests.admin.conftest import Staff

RATE = 10.0  # template sends per second in these tests
BUILDING_3 = ["o_b3_a", "o_b3_b", "o_b3_c", *(f"o_b3_{n}" for n in range(5))]


def bind(services: Any, openid: str, community_id: int, room_key: str,
         following: bool = True) -> None:
    with transaction(services.sessions) as session:
        if session.get(Resident, openid) is None:
            session.add(Resident(openid=openid, following=following))
        session.add(RoomBinding(openid=openid, community_id=community_id, room_key=room_key,
                                room=room_key))


@pytest.fixture()
def homes(services: Any) -> dict[str, int]:
    """Two communities; building 3 of the first has three following residents."""
    directory = Communities(services.sessions)
    first = directory.first().id
    second = directory.add("lanting", "兰亭苑").id
    bind(services, "o_b3_a", first, "3-1-101")
    bind(services, "o_b3_b", first, "3-2-502")
    bind(services, "o_b3_c", first, "3-2-502")
    bind(services, "o_b3_c", first, "5-1-101")  # one resident, two homes: one copy
    for n in range(5):
        bind(services, f"o_b3_{n}", first, f"3-{n % 2 + 1}-{301 + n}")
    bind(services, "o_b3_gone", first, "3-1-202", following=False)
    bind(services, "o_b5", first, "5-1-102")
    bind(services, "o_other", second, "3-1-101")  # building 3 of another community
    return {"first": first, "second": second}


@pytest.fixture()
def notices(services: Any) -> NoticeService:
    config = dataclasses.replace(services.config, knowledge=dataclasses.replace(
        services.config.knowledge, notice_rate_per_second=RATE))
    return NoticeService(services.sessions, services.outbox, config)


def deliver_all(services: Any, fake_wechat: Any, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(fake_wechat.messages()) < count and time.monotonic() < deadline:
        services.outbox.run_once()
        time.sleep(0.02)


def test_a_notice_to_one_building_reaches_exactly_its_residents_at_the_rate_limit(
    services: Any, notices: NoticeService, homes: dict[str, int], fake_wechat: Any
) -> None:
    draft = Draft("停水通知", "12月8日9:00-12:00 3栋停水检修，请提前储水。", "building", "3",
                  homes["first"])
    assert sorted(notices.recipients(draft)) == sorted(BUILDING_3)
    notice_id = notices.create(draft, "boss")
    started = time.time()
    assert notices.send(notice_id) == len(BUILDING_3)
    assert notices.send(notice_id) == 0  # never twice
    deliver_all(services, fake_wechat, len(BUILDING_3))
    sent = fake_wechat.messages()
    assert sorted(m.touser for m in sent) == sorted(BUILDING_3)
    assert all(m.kind == "template" and m.body["data"]["first"]["value"] == "停水通知"
               for m in sent)
    # Spread out: the last copy no sooner than its slot, no second holding more than RATE.
    assert sent[-1].received_at - started >= (len(sent) - 1) / RATE * 0.95
    times = [m.received_at for m in sent]
    assert max(sum(t <= u < t + 1 for u in times) for t in times) <= RATE

    # WeChat reports the outcome of each copy; the counts follow.
    pusher_reports = [(m.touser, 1000 + m.seq, "success") for m in sent[:-1]] + \
        [(sent[-1].touser, 1000 + sent[-1].seq, "failed:user block")]
    return_reports(services, pusher_reports)
    notices.sync()
    assert notices.counts(notice_id) == {"queued": 0, "sent": 0, "delivered": 7, "failed": 1,
                                         "total": 8}


def return_reports(services: Any, reports: list[tuple[str, int, str]]) -> None:
    from bot.push import WechatPusher
    from wuye.app import create_app

    app = create_app(services.config, services=services, background=False)
    wechat = services.config.wechat
    pusher = WechatPusher("", wechat.token, wechat.appid, wechat.aes_key,
                          session=app.test_client())
    for openid, msgid, status in reports:
        assert pusher.send(openid, "event", Event="TEMPLATESENDJOBFINISH", MsgID=msgid,
                           Status=status).status_code == 200


def test_two_notices_together_keep_the_rate(services: Any, notices: NoticeService,
                                            homes: dict[str, int]) -> None:
    from sqlalchemy import select

    from core.models import OutboxItem

    for title in ("通知一", "通知二"):
        notices.send(notices.create(Draft(title, "内容", "community", "", homes["first"]), "b"))
    with services.sessions() as session:
        times = sorted(session.scalars(select(OutboxItem.next_attempt_at).where(
            OutboxItem.kind == "template")))
    assert len(times) == 2 * 9  # nine following residents of the first community, twice
    assert all((b - a).total_seconds() >= 1 / RATE - 1e-3 for a, b in zip(times, times[1:],
                                                                           strict=False))


def test_scheduled_notices_wait_for_their_time(services: Any, notices: NoticeService,
                                               homes: dict[str, int]) -> None:
    later = utcnow() + timedelta(hours=1)
    notice_id = notices.create(Draft("电梯检修", "明天检修", "room", "3-2-502", homes["first"],
                                     scheduled_at=later), "boss")
    assert notices.send_due() == 0 and notices.get(notice_id).status == "scheduled"
    with transaction(services.sessions) as session:
        session.get(Notice, notice_id).scheduled_at = utcnow() - timedelta(seconds=1)
    assert notices.send_due() == 2  # the two residents of 3-2-502
    assert notices.get(notice_id).status == "sent"
    cancelled = notices.create(Draft("x", "y", "all", scheduled_at=later), "boss")
    assert notices.cancel(cancelled) and notices.send(cancelled) == 0


@pytest.mark.parametrize(("draft", "message"), [
    (Draft("", "正文", "all"), "标题"),
    (Draft("标题", "正文", "building", "3", None), "请选择小区"),
    (Draft("标题", "正文", "unit", "3", 1), "3-2"),
    (Draft("标题", "正文", "all", url="javascript:alert(1)"), "链接"),
], ids=["no-title", "no-community", "bad-unit", "bad-url"])
def test_bad_notices_are_refused(notices: NoticeService, draft: Draft, message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        notices.create(draft, "boss")


def test_residents_ask_for_recent_notices(services: Any, notices: NoticeService,
                                          homes: dict[str, int], pusher: Any) -> None:
    notices.send(notices.create(Draft("停水通知", "3栋明天停水", "building", "3", homes["first"]),
                                "boss"))
    answer = pusher.text("o_b3_a", "最近有什么通知").text
    assert "停水通知" in answer and "3栋明天停水" in answer
    assert "最近没有新的通知公告" in pusher.text("o_b5", "通知公告").text


def test_admin_previews_and_sends_from_the_page(admin_staff: Staff, services: Any,
                                                homes: dict[str, int]) -> None:
    form = {"title": "停车场划线", "body": "周六地下车库重新划线", "target": "building",
            "target_value": "3", "community_id": str(homes["first"])}
    preview = admin_staff.form("/admin/notices", {**form, "action": "preview"}).text
    assert "notice-preview" in preview and "<strong>8</strong>" in preview
    assert admin_staff.form("/admin/notices", {**form, "action": "send"}).status_code == 302
    page = admin_staff.get("/admin/notices").text
    assert "停车场划线" in page and "已发送" in page
    refused = admin_staff.form("/admin/notices", {**form, "target_value": "", "action": "send"})
    assert refused.status_code == 302
    assert "楼栋编号格式" in admin_staff.get("/admin/notices").text

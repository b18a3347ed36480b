"""The webhook's own defences: inputs the schema cannot hold, replays, plain pushes when
safe mode is required, the per-resident rate limit, stranded pushes and stale claims."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.inbound import parse_inbound
from bot.push import WechatPusher, build_xml
from core.config import ConfigError
from core.db import transaction, utcnow
from core.models import Message, OutboxItem
from tests.conftest import make_config

OPENID = "o_edge_resident"
AES_KEY = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V"


def count(services: Any, *where: Any) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message).where(*where)))


def _app(tmp_path: Path, db_url: str, redis_url: str, model_dir: Path, fake: Any,
         **wechat: Any) -> tuple[Any, Any]:
    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(tmp_path, database={"url": db_url}, redis={"url": redis_url},
                         nlu={"model_dir": str(model_dir)},
                         wechat={"api_base": fake.base_url, **wechat},
                         outbox={"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02})
    services = build_services(config, migrate=False)
    return create_app(config, services=services, background=False), services


# -- inputs the schema cannot hold: 400 before any database work -------------------------

def _utf16_without_bom(pusher: Any) -> bytes:
    xml = build_xml(pusher.fields(OPENID, "text", Content="你好", MsgId=1))
    return xml.encode("utf-16-le")


@pytest.mark.parametrize(
    "make_body",
    [
        lambda p: build_xml(p.fields("o" * 65, "text", Content="你好", MsgId=1)).encode(),
        lambda p: build_xml(p.fields(OPENID, "text", Content="你好", MsgId="9" * 65)).encode(),
        lambda p: build_xml(p.fields(OPENID, "event", Event="CLICK" * 8)).encode(),
        lambda p: build_xml(p.fields(OPENID, "event", Event="İ" * 20)).encode(),
        lambda p: build_xml(p.fields(OPENID, "x" * 33, Content="你好", MsgId=2)).encode(),
        lambda p: build_xml(p.fields(OPENID, "text", Content="你好\x00", MsgId=3)).encode(),
        lambda p: build_xml(p.fields(OPENID, "text", Content="你好", MsgId=4)).encode()
        .replace(b"</xml>", b"\x00</xml>"),
        _utf16_without_bom,
        lambda p: build_xml(p.fields(OPENID, "text", Content="你好", MsgId=5)).encode("utf-16"),
        lambda p: build_xml(p.fields(OPENID, "text", Content="你好", MsgId=6,
                                     CreateTime="9" * 30)).encode(),
    ],
    ids=["long-openid", "long-msgid", "long-event", "event-longer-in-lowercase", "long-msgtype",
         "nul-in-content", "nul-byte", "utf16-no-bom", "utf16-bom", "huge-createtime"],
)
def test_pushes_the_schema_cannot_hold_are_400_with_nothing_stored(
    pusher: Any, services: Any, caplog: pytest.LogCaptureFixture, make_body: Any,
) -> None:
    body = make_body(pusher)
    response = pusher.http.post("/wechat", query_string=pusher.query(), data=body)
    assert response.status_code == 400
    assert count(services) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- replayed signatures -------------------------------------------------------------------

def test_a_signed_url_replayed_with_another_body_is_refused(pusher: Any, services: Any) -> None:
    query = pusher.query()
    mine = build_xml(pusher.fields(OPENID, "text", Content="我家的账单", MsgId=11))
    forged = build_xml(pusher.fields("o_someone_else", "text", Content="我家的账单", MsgId=12))
    assert pusher.push_xml(mine, params=query).status_code == 200
    assert pusher.push_xml(forged, params=query).status_code == 403
    retry = pusher.push_xml(mine, params=query)  # WeChat's own retry: same URL, same body
    assert retry.status_code == 200
    assert count(services, Message.openid == "o_someone_else") == 0
    assert count(services, Message.direction == "in") == 1


# -- safe mode required ----------------------------------------------------------------------

def test_plain_pushes_are_refused_when_encryption_is_required(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    app, services = _app(tmp_path, db_url, redis_url, model_dir, fake_wechat,
                         aes_key=AES_KEY, require_encryption=True)
    try:
        wechat = services.config.wechat
        plain = WechatPusher("", wechat.token, wechat.appid, session=app.test_client())
        assert plain.text(OPENID, "物业费怎么交").status_code == 403
        assert count(services) == 0
        safe = WechatPusher("", wechat.token, wechat.appid, AES_KEY, session=app.test_client())
        result = safe.text(OPENID, "物业费怎么交")
        assert result.status_code == 200 and "缴费" in result.text
    finally:
        services.close()


def test_required_encryption_without_a_key_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wechat.require_encryption"):
        make_config(tmp_path, wechat={"require_encryption": True})


# -- rate limit ------------------------------------------------------------------------------

def test_pushes_over_the_rate_limit_are_stored_flagged_and_answered_politely(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    app, services = _app(tmp_path, db_url, redis_url, model_dir, fake_wechat,
                         rate_limit_per_minute=3)
    try:
        wechat = services.config.wechat
        pusher = WechatPusher("", wechat.token, wechat.appid, session=app.test_client())
        results = [pusher.text(OPENID, "物业电话多少") for _ in range(5)]
        assert all(r.status_code == 200 for r in results)
        assert all("0571-88886666" in r.text for r in results[:3])
        assert all("稍等一分钟" in r.text for r in results[3:])
        assert count(services, Message.direction == "in") == 5  # none lost
        with services.sessions() as session:
            throttled = session.scalars(select(Message).where(
                Message.status == "throttled")).all()
            notices = session.scalars(select(Message).where(
                Message.in_reply_to.in_([m.id for m in throttled]))).all()
        assert len(throttled) == 2 and all(m.needs_agent for m in throttled)
        assert [(n.delivery, n.status) for n in notices] == [("passive", "sent")] * 2
        assert "0571-88886666" in pusher.text("o_other_resident", "物业电话多少").text
    finally:
        services.close()


# -- stale claims and stranded pushes ------------------------------------------------------

def test_a_dedupe_key_left_pending_by_a_dead_process_does_not_block_the_retry(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    app, services = _app(tmp_path, db_url, redis_url, model_dir, fake_wechat,
                         reply_budget_seconds=3.0)
    try:
        wechat = services.config.wechat
        pusher = WechatPusher("", wechat.token, wechat.appid, session=app.test_client())
        fields = pusher.fields(OPENID, "text", Content="物业电话多少", MsgId=4711)
        key = f"wuye:push:{parse_inbound(build_xml(fields).encode()).dedupe_key}"
        redis_client.set(key, "__pending__", ex=60)  # claimed, then the process died
        started = time.monotonic()
        result = pusher.push_xml(build_xml(fields))
        assert result.status_code == 200 and time.monotonic() - started < 3.0
        with services.sessions() as session:
            stored = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert stored.status == "processed"
        services.outbox.run_once()
        answered = result.text or "".join(b["text"]["content"] for b in fake_wechat.sent)
        assert "0571-88886666" in answered
    finally:
        services.close()


def test_sweeper_processes_pushes_left_unfinished_and_gives_up_on_hopeless_ones(
    services: Any, pusher: Any, fake_wechat: Any,
) -> None:
    xml = build_xml(pusher.fields(OPENID, "text", Content="物业电话多少", MsgId=77))
    claim = services.messages.store_inbound(parse_inbound(xml.encode()), xml,
                                            timedelta(seconds=60))
    from prometheus_client import REGISTRY

    def recoveries() -> float:
        return REGISTRY.get_sample_value("wuye_sweeper_recoveries_total",
                                         {"outcome": "recovered"}) or 0.0

    before = recoveries()
    assert services.sweeper.run_once() == 0  # its lease still runs
    with transaction(services.sessions) as session:
        session.execute(update(Message).where(Message.id == claim.message_id)
                        .values(lease_until=utcnow() - timedelta(seconds=1)))
        hopeless = Message(openid="o_hopeless", direction="in", msg_type="text",
                           raw=xml, status="received", attempts=5)
        session.add(hopeless)
    assert services.sweeper.run_once() == 1
    assert recoveries() == before + 1
    services.outbox.run_once()
    assert "0571-88886666" in fake_wechat.sent_to(OPENID)[0]["text"]["content"]
    with services.sessions() as session:
        recovered = session.get(Message, claim.message_id)
        reply = session.scalars(select(Message).where(
            Message.in_reply_to == claim.message_id)).one()
        item = session.scalars(select(OutboxItem)).one()
        gave_up = session.scalars(select(Message).where(Message.openid == "o_hopeless")).one()
    assert (recovered.status, recovered.claim, recovered.attempts) == ("processed", None, 2)
    assert (reply.delivery, item.status, item.idempotency_key) == (
        "custom", "sent", f"reply:{claim.message_id}:0")
    assert (gave_up.status, gave_up.needs_agent) == ("failed", True)
    assert services.sweeper.run_once() == 0  # nothing is processed twice

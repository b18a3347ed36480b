"""The /wechat edge: verification, signatures, safe mode, bad input, retries, deferral."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.push import WechatPusher, build_xml, sign
from core.models import Message, OutboxItem
from tests.conftest import make_config

OPENID = "o_resident_1"


def count(services: Any, *where: Any) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message).where(*where)))


def test_url_verification_echoes_only_with_a_valid_signature(client: Any, pusher: Any) -> None:
    query = pusher.query()
    ok = client.get("/wechat", query_string={**query, "echostr": "echo-123"})
    assert ok.status_code == 200 and ok.text == "echo-123"
    bad = client.get("/wechat", query_string={**query, "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403


def test_text_question_is_answered_from_the_knowledge_base(pusher: Any, services: Any) -> None:
    result = pusher.text(OPENID, "物业费怎么交")
    assert result.status_code == 200
    assert "缴费" in result.text and "前台" in result.text
    with services.sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
        outbound = session.scalars(select(Message).where(Message.direction == "out")).one()
    assert inbound.nlu["intent"] == "faq" and inbound.nlu["faq_id"] == "fee_payment"
    assert inbound.raw and "物业费怎么交" in inbound.raw
    assert outbound.delivery == "passive" and "缴费" in outbound.text


def test_forged_signature_is_refused_and_nothing_stored(pusher: Any, services: Any) -> None:
    forged = WechatPusher("", "not-the-token", pusher.appid, session=pusher.http)
    assert forged.text(OPENID, "物业费怎么交").status_code == 403
    assert count(services) == 0


def test_stale_timestamp_is_refused(pusher: Any, services: Any) -> None:
    old = str(int(time.time()) - 3600)
    xml = build_xml(pusher.fields(OPENID, "text", Content="你好", MsgId=1))
    result = pusher.push_xml(xml, params=pusher.query(timestamp=old))
    assert result.status_code == 403
    assert count(services) == 0


def test_same_msgid_three_times_is_processed_once(pusher: Any, services: Any) -> None:
    results = [pusher.text(OPENID, "物业服务中心在哪", msg_id=777) for _ in range(3)]
    assert all(r.status_code == 200 for r in results)
    assert results[0].text and "3号楼" in results[0].text
    assert results[0].text == results[1].text == results[2].text
    assert count(services, Message.direction == "in") == 1
    assert count(services, Message.direction == "out") == 1


def test_same_msgid_from_two_residents_are_two_messages(pusher: Any, services: Any) -> None:
    pusher.text("o_a", "你好", msg_id=42)
    pusher.text("o_b", "你好", msg_id=42)
    assert count(services, Message.direction == "in") == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>broken",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;">]><xml><ToUserName>a</ToUserName><FromUserName>o'
        b"</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        b"<Content>&lol2;</Content><MsgId>5</MsgId></xml>",
        b"<xml><ToUserName>a</ToUserName><MsgType>text</MsgType></xml>",
    ],
    ids=["truncated", "not-xml", "entity-expansion", "no-sender"],
)
def test_bad_xml_is_4xx_with_nothing_stored(pusher: Any, services: Any, body: bytes) -> None:
    result = pusher.push_xml(body.decode())
    assert 400 <= result.status_code < 500
    assert count(services) == 0


@pytest.mark.parametrize("msg_type", ["file", "miniprogrampage", "nonsense"])
def test_unknown_message_types_are_stored_and_answered(pusher: Any, services: Any,
                                                       msg_type: str) -> None:
    result = pusher.send(OPENID, msg_type, Title="报价单.pdf", MsgId=31337)
    assert result.status_code == 200 and result.text
    with services.sessions() as session:
        stored = session.scalars(select(Message).where(Message.direction == "in")).one()
    assert (stored.msg_type, stored.status) == (msg_type, "processed")


def test_oversized_body_is_413(pusher: Any, services: Any) -> None:
    result = pusher.push_xml(build_xml(pusher.fields(OPENID, "text", Content="长" * 40000,
                                                     MsgId=9)))
    assert result.status_code == 413
    assert count(services) == 0


def test_subscribe_gets_the_welcome_text(pusher: Any) -> None:
    result = pusher.event(OPENID, "subscribe")
    assert "欢迎关注" in result.text and "报修" in result.text and "绑定房屋" in result.text


def test_unsubscribe_is_recorded_silently(pusher: Any, services: Any) -> None:
    from core.models import Resident

    pusher.event(OPENID, "subscribe")
    result = pusher.event(OPENID, "unsubscribe")
    assert result.body == "success"
    with services.sessions() as session:
        assert session.get(Resident, OPENID).following is False


def test_voice_with_recognition_is_answered_like_text(pusher: Any) -> None:
    assert "3号楼" in pusher.voice(OPENID, "物业服务中心在哪里").text


def test_voice_without_recognition_asks_to_type(pusher: Any) -> None:
    assert "文字" in pusher.voice(OPENID, "").text


@pytest.mark.parametrize(
    ("kind", "send", "expected"),
    [
        ("image", lambda p: p.image(OPENID, "http://img.example/1.jpg"), "图片已收到"),
        ("location", lambda p: p.location(OPENID, 30.2, 120.1, "翠湖花园东门"), "翠湖花园东门"),
        ("click", lambda p: p.event(OPENID, "CLICK", "MENU_FAQ"), ""),
        ("view", lambda p: p.event(OPENID, "VIEW", "http://example/menu"), None),
        ("scan", lambda p: p.event(OPENID, "SCAN", "123"), None),
        ("location-event", lambda p: p.event(OPENID, "LOCATION"), None),
    ],
    ids=["image", "location", "click", "view", "scan", "location-event"],
)
def test_every_message_type_is_parsed_and_stored(pusher: Any, services: Any, kind: str,
                                                 send: Any, expected: str | None) -> None:
    result = send(pusher)
    assert result.status_code == 200
    if expected is None:
        assert result.body == "success"
    else:
        assert expected in result.text
    assert count(services, Message.direction == "in") == 1


def test_reply_xml_survives_cdata_terminators_and_controls(services: Any) -> None:
    import xml.etree.ElementTree as ET

    from bot.replies import Reply, passive_xml

    text = "答复]]>尾巴\x01\x0b 完"
    root = ET.fromstring(passive_xml(Reply(text=text), OPENID, "gh"))
    assert root.findtext("Content") == "答复]]>尾巴 完"


def test_long_reply_is_split_and_rest_goes_to_outbox(services: Any) -> None:
    from bot.replies import Reply, expand

    parts = expand([Reply(text="物业" * 1500)])
    assert len(parts) >= 2
    assert all(len(p.text.encode()) <= 2048 for p in parts)
    assert "".join(p.text for p in parts) == "物业" * 1500


def test_slow_reply_is_success_then_delivered_with_retries(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(
        tmp_path, database={"url": db_url}, redis={"url": redis_url},
        nlu={"model_dir": str(model_dir)},
        wechat={"api_base": fake_wechat.base_url, "reply_budget_seconds": 1.0},
        outbox={"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02, "max_attempts": 5},
    )
    services = build_services(config, migrate=False)
    try:
        app = create_app(config, services=services, background=False)
        pusher = WechatPusher("", config.wechat.token, config.wechat.appid,
                              session=app.test_client())
        fake_wechat.fail_next(2)
        busy = redis_client.lock(f"wuye:turn:{OPENID}", timeout=30)
        busy.acquire()  # a console action holds the conversation: the turn waits past budget
        started = time.monotonic()
        result = pusher.text(OPENID, "物业电话多少")
        assert result.body == "success" and time.monotonic() - started < 1.2
        busy.release()
        deadline = time.monotonic() + 10
        while not fake_wechat.sent_to(OPENID) and time.monotonic() < deadline:
            services.outbox.run_once()
            time.sleep(0.02)
        sent = fake_wechat.sent_to(OPENID)
        assert len(sent) == 1 and "0571-88886666" in sent[0]["text"]["content"]
        with services.sessions() as session:
            item = session.scalars(select(OutboxItem)).one()
            assert item.status == "sent" and item.attempts == 3
    finally:
        services.close()


OFFICIAL = {  # WeChat's published safe-mode sample (Python Sample.py of the MP crypto SDK)
    "token": "spamtest",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "appid": "wx2c2769f8efd9abc2",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "encrypt": "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLv"
    "beUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyy"
    "Xwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZ"
    "ciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6"
    "OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=",
    "plaintext": "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName>"
    "<![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668"
    "</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>"
    "\n<MsgId>6054768590064713728</MsgId>\n</xml>",
}


def _safe_app(tmp_path: Path, db_url: str, redis_url: str, model_dir: Path, fake: Any,
              **wechat: Any) -> tuple[Any, Any]:
    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(tmp_path, database={"url": db_url}, redis={"url": redis_url},
                         nlu={"model_dir": str(model_dir)},
                         wechat={"api_base": fake.base_url, **wechat})
    services = build_services(config, migrate=False)
    return create_app(config, services=services, background=False), services


def test_safe_mode_official_sample_decrypts_through_the_webhook(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    from wechatpy.crypto import WeChatCrypto

    app, services = _safe_app(tmp_path, db_url, redis_url, model_dir, fake_wechat,
                              token=OFFICIAL["token"], aes_key=OFFICIAL["aes_key"],
                              appid=OFFICIAL["appid"], timestamp_tolerance_seconds=10**10)
    try:
        body = build_xml({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": OFFICIAL["encrypt"]})
        query = {
            "signature": sign(OFFICIAL["token"], OFFICIAL["timestamp"], OFFICIAL["nonce"]),
            "timestamp": OFFICIAL["timestamp"], "nonce": OFFICIAL["nonce"],
            "encrypt_type": "aes", "msg_signature": OFFICIAL["msg_signature"],
        }
        response = app.test_client().post("/wechat", query_string=query, data=body)
        assert response.status_code == 200
        with services.sessions() as session:
            stored = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert stored.raw == OFFICIAL["plaintext"]
        assert stored.openid == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and stored.text == "abcdteT"
        crypto = WeChatCrypto(OFFICIAL["token"], OFFICIAL["aes_key"], OFFICIAL["appid"])
        import xml.etree.ElementTree as ET

        root = ET.fromstring(response.text)
        reply = crypto.decrypt_message(response.text, root.findtext("MsgSignature"),
                                       root.findtext("TimeStamp"), root.findtext("Nonce"))
        assert "<Content>" in reply and "oyORnuP8q7ou2gfYjqLzSIWZf0rs" in reply
    finally:
        services.close()


def test_safe_mode_question_answered_and_bad_msg_signature_refused(
    tmp_path: Path, db_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    aes_key = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V"
    app, services = _safe_app(tmp_path, db_url, redis_url, model_dir, fake_wechat,
                              aes_key=aes_key)
    try:
        wechat = services.config.wechat
        safe = WechatPusher("", wechat.token, wechat.appid, aes_key, session=app.test_client())
        result = safe.text(OPENID, "物业费怎么交")
        assert result.status_code == 200 and "缴费" in result.text
        xml = build_xml(safe.fields(OPENID, "text", Content="你好", MsgId=5))
        encrypted = safe.crypto.encrypt_message(xml, "n1", str(int(time.time())))
        query = {**safe.query(nonce="n1"), "encrypt_type": "aes", "msg_signature": "0" * 40}
        import xml.etree.ElementTree as ET

        body = build_xml({"ToUserName": "gh", "Encrypt": ET.fromstring(encrypted)
                          .findtext("Encrypt")})
        response = app.test_client().post("/wechat", query_string=query, data=body)
        assert response.status_code == 403
    finally:
        services.close()


def test_internal_error_is_success_and_flagged(pusher: Any, services: Any) -> None:
    """A handler crash must not reach WeChat: `success`, and the message waits for a person."""
    from sqlalchemy import text

    with services.sessions() as session, session.begin():  # the knowledge base breaks
        cascade = " CASCADE" if session.get_bind().dialect.name == "postgresql" else ""
        session.execute(text("DROP TABLE faq_entries" + cascade))
    result = pusher.text(OPENID, "物业费怎么交")
    assert result.status_code == 200 and result.body == "success"
    with services.sessions() as session:
        stored = session.scalars(select(Message).where(Message.direction == "in")).one()
    assert stored.needs_agent and stored.status == "failed" and stored.error


def test_event_retry_is_deduplicated_but_other_buttons_are_not(pusher: Any,
                                                               services: Any) -> None:
    fields = pusher.fields(OPENID, "event", Event="CLICK", EventKey="MENU_FAQ")
    first = pusher.push_xml(build_xml(fields))
    again = pusher.push_xml(build_xml(fields))
    assert first.text == again.text and "常问的问题" in first.text
    other = pusher.push_xml(build_xml({**fields, "EventKey": "MENU_BILLS"}))
    assert other.text != first.text
    assert count(services, Message.direction == "in") == 2


def test_passive_news_reply_carries_exactly_one_article() -> None:
    import xml.etree.ElementTree as ET

    from bot.replies import Reply, passive_xml

    articles = [{"title": f"通知{i}", "description": "停水", "url": "https://x/1",
                 "picurl": ""} for i in range(3)]
    root = ET.fromstring(passive_xml(Reply("news", "通知0", articles), OPENID, "gh"))
    assert root.findtext("MsgType") == "news" and root.findtext("ArticleCount") == "1"
    assert [item.findtext("Title") for item in root.iter("item")] == ["通知0"]


def test_concurrent_retries_over_http_are_processed_once(app: Any, services: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.live import live_server

    with live_server(app) as url:
        wechat = services.config.wechat
        pushers = [WechatPusher(url, wechat.token, wechat.appid) for _ in range(3)]
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda p: p.text(OPENID, "物业电话多少", msg_id=4242),
                                    pushers))
        assert {r.status_code for r in results} == {200}
        assert len({r.text for r in results}) == 1 and "0571-88886666" in results[0].text
        assert count(services, Message.direction == "in") == 1
        assert count(services, Message.direction == "out") == 1

"""The WeChat API client against the loopback fake and a real Redis: one shared token."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis as redis_lib
import requests

from bot.fake_wechat import FakeWechatApi
from bot.wechat_api import (
    WechatApi,
    WechatApiError,
    custom_news,
    custom_text,
    template_message,
)
from core.config import Config
from tests.conftest import make_config


def _api(config: Config, redis_url: str) -> WechatApi:
    """A client with its own Redis connection, as a separate process would have."""
    return WechatApi(config.wechat, redis_lib.Redis.from_url(redis_url, decode_responses=True))


def test_token_is_cached_and_shared_between_clients(
    wechat_config: Config, redis_client: redis_lib.Redis, redis_url: str,
    fake_wechat: FakeWechatApi,
) -> None:
    first, second = _api(wechat_config, redis_url), _api(wechat_config, redis_url)
    token = first.access_token()
    assert second.access_token() == token
    first.send_custom(custom_text("o-1", "您好"))
    second.send_custom(custom_text("o-2", "您好"))
    assert fake_wechat.token_requests == 1
    ttl = redis_client.ttl(f"wuye:wechat:access_token:{wechat_config.wechat.appid}")
    assert 7200 - 300 - 5 < ttl <= 7200 - 300


def test_concurrent_refresh_makes_exactly_one_token_request(
    wechat_config: Config, redis_client: redis_lib.Redis, redis_url: str,
    fake_wechat: FakeWechatApi,
) -> None:
    fake_wechat.token_delay_seconds = 0.3  # every thread arrives while the first still fetches
    clients = [_api(wechat_config, redis_url) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    tokens: list[str] = []

    def fetch(api: WechatApi) -> None:
        barrier.wait()
        tokens.append(api.access_token())

    threads = [threading.Thread(target=fetch, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(tokens) == len(clients) and len(set(tokens)) == 1
    assert fake_wechat.token_requests == 1


@pytest.mark.parametrize("revoke", ["revoke_tokens", "expire_tokens"], ids=["40001", "42001"])
def test_rejected_token_is_refetched_and_the_send_retried_once(
    revoke: str, wechat_config: Config, redis_client: redis_lib.Redis, redis_url: str,
    fake_wechat: FakeWechatApi,
) -> None:
    api = _api(wechat_config, redis_url)
    old = api.access_token()
    getattr(fake_wechat, revoke)()
    api.send_custom(custom_text("o-1", "您的工单已受理"))
    assert api.access_token() != old
    assert fake_wechat.token_requests == 2
    assert fake_wechat.sent_to("o-1") == [custom_text("o-1", "您的工单已受理")]


def test_concurrent_rejections_refresh_once(
    wechat_config: Config, redis_client: redis_lib.Redis, redis_url: str,
    fake_wechat: FakeWechatApi,
) -> None:
    clients = [_api(wechat_config, redis_url) for _ in range(4)]
    clients[0].access_token()
    fake_wechat.revoke_tokens()
    fake_wechat.token_delay_seconds = 0.2
    barrier = threading.Barrier(len(clients))

    def send(api: WechatApi, n: int) -> None:
        barrier.wait()
        api.send_custom(custom_text(f"o-{n}", "通知"))

    threads = [threading.Thread(target=send, args=(api, n)) for n, api in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(fake_wechat.sent) == len(clients)
    assert fake_wechat.token_requests == 2


def test_every_url_comes_from_api_base(
    tmp_path: Path, redis_client: redis_lib.Redis, redis_url: str, fake_wechat: FakeWechatApi,
) -> None:
    """Token fetch and sends all follow api_base, path prefix and trailing slash included."""
    prefixed = make_config(tmp_path, wechat={"api_base": fake_wechat.base_url + "/prefix"})
    with pytest.raises(WechatApiError) as caught:
        _api(prefixed, redis_url).access_token()
    assert caught.value.errmsg == "HTTP 404" and fake_wechat.token_requests == 0

    slashed = make_config(tmp_path, wechat={"api_base": fake_wechat.base_url + "/"})
    api = _api(slashed, redis_url)
    api.send_custom(custom_text("o-1", "a"))
    api.send_template(template_message("o-1", "TPL", {"first": "b"}))
    assert fake_wechat.token_requests == 1
    assert [b["touser"] for b in fake_wechat.sent] == ["o-1", "o-1"]


@pytest.mark.parametrize(
    ("errcode", "http_status", "retryable"),
    [(-1, None, True), (45015, None, False), (43004, None, False), (0, 500, True)],
    ids=["system-busy", "out-of-48h", "unsubscribed", "http-500"],
)
def test_errors_say_whether_a_retry_may_help(
    errcode: int, http_status: int | None, retryable: bool, wechat_config: Config,
    redis_client: redis_lib.Redis, redis_url: str, fake_wechat: FakeWechatApi,
) -> None:
    api = _api(wechat_config, redis_url)
    fake_wechat.fail_next(1, errcode=errcode, http_status=http_status)
    with pytest.raises(WechatApiError) as caught:
        api.send_custom(custom_text("o-1", "a"))
    assert caught.value.retryable is retryable
    assert fake_wechat.sent == []


def test_unreachable_wechat_is_retryable_and_the_error_hides_the_token(
    tmp_path: Path, redis_client: redis_lib.Redis, redis_url: str,
) -> None:
    with FakeWechatApi() as fake:
        config = make_config(tmp_path, wechat={"api_base": fake.base_url,
                                               "http_timeout_seconds": 1})
        api = _api(config, redis_url)
        token = api.access_token()
    with pytest.raises(WechatApiError) as caught:
        api.send_custom(custom_text("o-1", "a"))
    assert caught.value.retryable
    assert "access_token=***" in caught.value.errmsg and token not in str(caught.value)


def test_wrong_secret_is_not_retryable(
    tmp_path: Path, redis_client: redis_lib.Redis, redis_url: str, fake_wechat: FakeWechatApi,
) -> None:
    config = make_config(tmp_path, wechat={"api_base": fake_wechat.base_url, "secret": "nope"})
    with pytest.raises(WechatApiError) as caught:
        _api(config, redis_url).access_token()
    assert (caught.value.errcode, caught.value.retryable) == (40125, False)


def test_payload_builders_match_wechat_json(fake_wechat: FakeWechatApi) -> None:
    news = custom_news("o-1", "停水通知", "明天 9:00-12:00", "https://example.com/n", "")
    assert news["news"]["articles"][0]["title"] == "停水通知"
    tpl = template_message("o-1", "T1", {"first": "您好", "keyword1": {"value": "x",
                                                                       "color": "#173177"}},
                           url="https://example.com")
    assert tpl["data"] == {"first": {"value": "您好"},
                           "keyword1": {"value": "x", "color": "#173177"}}
    assert tpl["url"] == "https://example.com"
    assert "url" not in template_message("o-1", "T1", {})


def test_fake_lists_messages_over_http(
    wechat_config: Config, redis_client: redis_lib.Redis, redis_url: str,
    fake_wechat: FakeWechatApi,
) -> None:
    api = _api(wechat_config, redis_url)
    for n in range(3):
        api.send_custom(custom_text("o-a" if n != 1 else "o-b", f"第{n}条"))
    listed = requests.get(f"{fake_wechat.base_url}/fake/messages",
                          params={"touser": "o-a", "after": 1}, timeout=5).json()
    assert [m["body"]["text"]["content"] for m in listed["messages"]] == ["第2条"]
    assert fake_wechat.wait_for_sent(3, timeout=1)[1]["touser"] == "o-b"
    with pytest.raises(TimeoutError):
        fake_wechat.wait_for_sent(4, timeout=0.1)

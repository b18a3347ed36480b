"""Fixtures for the WeChat edge: configs pointing at the loopback fake WeChat API.

`fake_wechat` itself lives in tests/conftest.py, shared with the app fixtures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.fake_wechat import FakeWechatApi
from core.config import Config
from tests.conftest import make_config


@pytest.fixture()
def wechat_config(tmp_path: Path, fake_wechat: FakeWechatApi, redis_url: str) -> Config:
    """A config whose WeChat URLs all lead to the fake, with backoffs short enough to test."""
    return make_config(
        tmp_path,
        wechat={"api_base": fake_wechat.base_url, "http_timeout_seconds": 5},
        redis={"url": redis_url},
        outbox={"poll_seconds": 0.05, "backoff_base_seconds": 0.01,
                "backoff_max_seconds": 0.04, "max_attempts": 3},
    )

# Signed-in admins, for the custom-menu tests (tests/bot/test_menu_store.py).
from tests.admin.conftest import admin_staff, console_app, make_staff  # noqa: E402, F401

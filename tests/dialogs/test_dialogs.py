"""The conversation suite: every dialog in tests/dialogs/*.yaml through the signed webhook.

All dialogs run on SQLite; every third (and each marked `postgres: true`) also on
PostgreSQL. One app per database and clock is built once and shared: each dialog
has its own openid, and open handovers are ended between dialogs.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_config
from tests.dialogs.runner import Dialog, Player, load_dialogs

DIALOGS = load_dialogs()
POSTGRES_EVERY = 3
CASES = [pytest.param("sqlite", d, id=f"sqlite-{d.file}-{d.name}") for d in DIALOGS] + [
    pytest.param("postgresql", d, id=f"postgresql-{d.file}-{d.name}")
    for i, d in enumerate(DIALOGS) if d.postgres or i % POSTGRES_EVERY == 0]


class Apps:
    """Apps by (database, clock, silence), built on first use, closed at the end."""

    def __init__(self, request: pytest.FixtureRequest, root: Path) -> None:
        self.request = request
        self.root = root
        self.players: dict[tuple[str, str, int], Player] = {}
        self.closers: list[Any] = []

    def player(self, backend: str, dialog: Dialog) -> Player:
        key = (backend, dialog.clock, dialog.silence)
        if key not in self.players:
            self.players[key] = self.build(backend, dialog)
        return self.players[key]

    def build(self, backend: str, dialog: Dialog) -> Player:
        from bot.fake_wechat import FakeWechatApi
        from bot.push import WechatPusher
        from handlers.tickets.demo import load_demo_households
        from wuye.app import create_app
        from wuye.services import build_services

        fake = FakeWechatApi().__enter__()
        self.closers.append(lambda: fake.__exit__(None, None, None))
        folder = self.root / uuid.uuid4().hex[:8]
        folder.mkdir()
        config = make_config(
            folder, database={"url": self.database(backend, folder)},
            redis={"url": self.request.getfixturevalue("redis_url")},
            nlu={"model_dir": str(self.request.getfixturevalue("model_dir"))},
            wechat={"api_base": fake.base_url},
            handoff={"clock": dialog.clock, "agent_silence_seconds": dialog.silence},
            outbox={"poll_seconds": 0.05, "backoff_base_seconds": 0.01,
                    "backoff_max_seconds": 0.05, "max_attempts": 4})
        services = build_services(config, migrate=False)
        self.closers.append(services.close)
        load_demo_households(services.sessions)
        app = create_app(services.config, services=services, background=False)
        app.testing = True
        wechat = services.config.wechat
        pusher = WechatPusher("", wechat.token, wechat.appid, wechat.aes_key,
                              session=app.test_client())
        return Player(services, pusher)

    def database(self, backend: str, folder: Path) -> str:
        if backend == "sqlite":
            target = folder / "wuye.db"
            shutil.copy(self.request.getfixturevalue("sqlite_template"), target)
            return f"sqlite:///{target}"
        admin = self.request.getfixturevalue("postgres_admin_url")
        template = self.request.getfixturevalue("postgres_template")
        name = f"wuye_dlg_{uuid.uuid4().hex[:10]}"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

        def drop() -> None:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()

        self.closers.insert(0, drop)
        return admin.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


@pytest.fixture(scope="module")
def apps(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    built = Apps(request, tmp_path_factory.mktemp("dialogs"))
    yield built
    built.close()


@pytest.mark.parametrize(("backend", "dialog"), CASES)
def test_dialog(apps: Apps, backend: str, dialog: Dialog) -> None:
    player = apps.player(backend, dialog)
    openid = f"o_dlg_{uuid.uuid4().hex[:12]}"
    try:
        player.play(dialog, openid)
    finally:
        player.finish()


def test_the_suite_is_big_enough() -> None:
    assert len(DIALOGS) >= 150

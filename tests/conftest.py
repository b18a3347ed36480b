"""Fixtures that build real objects: Redis and PostgreSQL servers, databases, config, app."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

from core.config import Config, load_config
from core.db import upgrade
from tests.servers import postgres_server, redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> str:
    """A migrated template database; each test clones it (fast, isolated)."""
    engine = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS wuye_template"))
        conn.execute(text("CREATE DATABASE wuye_template"))
    engine.dispose()
    upgrade(postgres_admin_url.rsplit("/", 1)[0] + "/wuye_template")
    return "wuye_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _fresh_postgres(admin_url: str, template: str) -> Iterator[str]:
    name = f"wuye_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "wuye.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
    else:
        yield from _fresh_postgres(
            request.getfixturevalue("postgres_admin_url"),
            request.getfixturevalue("postgres_template"),
        )


@pytest.fixture()
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database, for tests whose behaviour does not depend on the backend."""
    target = tmp_path / "wuye.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One NLU model directory for the session: trained once, shared by every app."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture()
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_dir: Path) -> Path:
    """Environment for running `wuye` commands: a SQLite file (returned) and private dirs."""
    db = tmp_path / "cli.db"
    monkeypatch.setenv("WUYE_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WUYE_NLU_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("WUYE_REDIS_URL", f"memory://cli-{tmp_path.name}")
    return db


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    """Build a test config: no file, no environment, only what the test says."""
    overrides: dict[str, Any] = {"var_dir": str(tmp_path / "var")}
    for name, values in sections.items():
        overrides[name] = values
    return load_config(env={}, overrides=overrides)


# -- the whole app, on real Redis and a real database, WeChat faked on loopback ----------

@pytest.fixture()
def fake_wechat() -> Iterator[Any]:
    """WeChat's API on a loopback port; every send the code under test makes lands here."""
    from bot.fake_wechat import FakeWechatApi

    with FakeWechatApi() as fake:
        yield fake


@pytest.fixture()
def app_config(tmp_path: Path, db_url: str, redis_client: redis_lib.Redis, redis_url: str,
               model_dir: Path, fake_wechat: Any) -> Config:
    """Settings for an app under test; tests needing others build their own with make_config."""
    return make_config(
        tmp_path,
        database={"url": db_url},
        redis={"url": redis_url},
        nlu={"model_dir": str(model_dir)},
        wechat={"api_base": fake_wechat.base_url},
        outbox={"poll_seconds": 0.05, "backoff_base_seconds": 0.01,
                "backoff_max_seconds": 0.05, "max_attempts": 4},
    )


@pytest.fixture()
def services(app_config: Config) -> Iterator[Any]:
    from wuye.services import build_services

    built = build_services(app_config, migrate=False)
    yield built
    built.close()


@pytest.fixture()
def app(services: Any) -> Any:
    from wuye.app import create_app

    flask_app = create_app(services.config, services=services, background=False)
    flask_app.testing = True
    return flask_app


@pytest.fixture()
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture()
def pusher(app: Any, services: Any) -> Any:
    """WeChat's server pushing signed XML into /wechat (through the Flask test client)."""
    from bot.push import WechatPusher

    wechat = services.config.wechat
    return WechatPusher("", wechat.token, wechat.appid, wechat.aes_key,
                        session=app.test_client())

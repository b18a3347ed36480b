"""Start-up refusals outside demo mode, readiness with a dependency down, a light serving path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

from core.config import ConfigError, check_production, load_config
from tests.conftest import _fresh_postgres, make_config
from tests.servers import redis_server
from wuye.cli import main

GOOD_KEY = "a-long-random-production-key-0123456789"


@pytest.mark.parametrize(
    ("args", "env", "key"),
    [
        (["serve"], {}, "server.secret_key"),
        (["serve", "--workers", "2"], {"WUYE_SERVER_SECRET_KEY": GOOD_KEY}, "redis.url"),
        (["serve"], {"WUYE_SERVER_SECRET_KEY": GOOD_KEY,
                     "WUYE_SERVER_RUN_BACKGROUND_JOBS": "false"}, "redis.url"),
        (["serve"], {"WUYE_SERVER_SECRET_KEY": GOOD_KEY, "WUYE_WECHAT_AES_KEY": "!" * 43},
         "wechat.aes_key"),
        (["worker"], {}, "server.secret_key"),
        (["worker"], {"WUYE_SERVER_SECRET_KEY": GOOD_KEY}, "redis.url"),
    ],
    ids=["default-key", "memory-redis-two-workers", "memory-redis-beside-worker", "aes-base64",
         "worker-default-key", "worker-memory-redis"],
)
def test_production_refuses_unsafe_settings(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str], env: dict[str, str], key: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    error = capsys.readouterr().err
    assert key in error and "配置错误" in error


def test_demo_and_a_single_process_are_allowed() -> None:
    check_production(load_config(env={}, overrides={"server": {"demo": True}}), processes=4)
    config = load_config(env={"WUYE_SERVER_SECRET_KEY": GOOD_KEY})
    check_production(config, processes=1)
    with pytest.raises(ConfigError, match="redis.url"):
        check_production(config, processes=2)


@pytest.mark.parametrize("key", ["abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                                 "a" * 43, "A+/9" * 10 + "abc"])
def test_valid_aes_keys_load(key: str) -> None:
    assert load_config(env={"WUYE_WECHAT_AES_KEY": key}).wechat.aes_key == key


def test_readyz_is_503_while_redis_or_the_database_is_down(
    tmp_path: Path, postgres_admin_url: str, postgres_template: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    from wuye.app import create_app
    from wuye.services import build_services

    databases = _fresh_postgres(postgres_admin_url, postgres_template)
    db_url = next(databases)
    with redis_server() as redis_url:
        config = make_config(tmp_path, database={"url": db_url}, redis={"url": redis_url},
                             nlu={"model_dir": str(model_dir)},
                             wechat={"api_base": fake_wechat.base_url})
        services = build_services(config, migrate=False)
        client = create_app(config, services=services, background=False).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"] == {
            "database": "ok", "redis": "ok", "nlu": "ok"}
        # A Redis that hangs (stopped, not gone) is down within the probe's timeout.
        pid = int(redis_lib.Redis.from_url(redis_url).info("server")["process_id"])
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            hung = client.get("/readyz")
            assert hung.status_code == 503 and hung.json["checks"]["redis"].startswith("down")
            assert time.monotonic() - started < 10
        finally:
            os.kill(pid, signal.SIGCONT)
        assert client.get("/readyz").status_code == 200
        # So does a database whose server process stops answering.
        with services.db.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        os.kill(backend, signal.SIGSTOP)
        try:
            started = time.monotonic()
            hung = client.get("/readyz")
            assert hung.status_code == 503
            assert hung.json["checks"]["database"] == "down: timeout"
            assert time.monotonic() - started < 10
        finally:
            os.kill(backend, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    # redis_server() has stopped that Redis.
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["redis"].startswith("down")
    assert down.json["checks"]["database"] == "ok"
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
    gone = client.get("/readyz")
    assert gone.status_code == 503 and gone.json["checks"]["database"].startswith("down")
    services.close()
    next(databases, None)


# Only training, evaluation, exports, charts, migrations or tests use these; a server that
# imported them would pay for it at every start.
HEAVY = ("sklearn", "scipy", "threadpoolctl", "joblib", "pandas", "matplotlib", "playwright",
         "hypothesis", "alembic", "mako", "openpyxl")


def test_importing_the_server_imports_nothing_heavy() -> None:
    """What `wuye serve`'s master imports before forking (the CLI, the gunicorn glue, the
    app and every page module) leaves the training and tooling libraries alone."""
    script = f"""
import sys
import wuye.cli, wuye.server
wuye.server.import_app()
assert "wuye.app" in sys.modules and "admin.pages" in sys.modules
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print("HEAVY", heavy)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout, result.stdout


def test_the_serving_path_does_not_import_scikit_learn_or_scipy(
    tmp_path: Path, sqlite_url: str, model_dir: Path
) -> None:
    from nlu.training import ensure_model

    ensure_model(model_dir)  # training (which does use sklearn) happens elsewhere
    script = f"""
import sys
from core.config import load_config
from wuye.app import create_app
from wuye.services import build_services
config = load_config(env={{}}, overrides={{
    "var_dir": {str(tmp_path / "var")!r}, "database": {{"url": {sqlite_url!r}}},
    "nlu": {{"model_dir": {str(model_dir)!r}}}}})
services = build_services(config, migrate=False)
app = create_app(config, services=services, background=False)
assert app.test_client().get("/readyz").status_code == 200
services.close()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print("HEAVY", heavy)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout, result.stdout

"""The `wuye` command: migrate, inspect, and clear errors for bad settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from core.db import make_engine
from wuye.cli import main


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_dir: Path) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("WUYE_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WUYE_NLU_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("WUYE_REDIS_URL", "memory://cli-test")
    return db


def test_db_upgrade_creates_every_table(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    tables = set(sa_inspect(make_engine(f"sqlite:///{env}")).get_table_names())
    assert {"residents", "conversations", "messages", "outbox", "faq_entries"} <= tables
    assert "up to date" in capsys.readouterr().out


def test_inspect_json_has_the_documented_shape(env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "o_nobody", "--json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report == {"openid": "o_nobody", "handover": None, "bound_rooms": [], "tickets": [],
                      "last_messages": []}


def test_bad_setting_stops_with_the_key_named(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WUYE_SERVER_PORT", "not-a-port")
    assert main(["db", "upgrade"]) == 2
    assert "server.port" in capsys.readouterr().err

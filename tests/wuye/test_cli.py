"""The `wuye` command: migrate, inspect, and clear errors for bad settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from core.db import make_engine
from wuye.cli import main


def test_db_upgrade_creates_every_table(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    tables = set(sa_inspect(make_engine(f"sqlite:///{cli_env}")).get_table_names())
    assert {"residents", "conversations", "messages", "outbox", "faq_entries"} <= tables
    assert "up to date" in capsys.readouterr().out


def test_inspect_json_has_the_documented_shape(cli_env: Path,
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

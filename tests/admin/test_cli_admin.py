"""`wuye user add NAME --role ...`: password from stdin, stored hashed."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

import pytest

from admin.users import UserStore
from core.db import make_engine, make_session_factory
from wuye.cli_admin import add_commands


def run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    parser = argparse.ArgumentParser(prog="wuye")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return int(args.func(args))


def test_user_add_reads_the_password_from_stdin(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("WUYE_DATABASE_URL", sqlite_url)
    assert run(["user", "add", "zhang", "--role", "admin"], "s3cret-password\n", monkeypatch) == 0
    assert "created admin zhang" in capsys.readouterr().out
    engine = make_engine(sqlite_url)
    store = UserStore(make_session_factory(engine))
    assert store.authenticate("zhang", "s3cret-password").role == "admin"
    engine.dispose()


def test_user_add_refuses_a_short_password_and_a_duplicate(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("WUYE_DATABASE_URL", sqlite_url)
    assert run(["user", "add", "li"], "short\n", monkeypatch) == 1
    assert "密码至少" in capsys.readouterr().err
    assert run(["user", "add", "li"], "long-enough-pw\n", monkeypatch) == 0
    assert run(["user", "add", "li"], "long-enough-pw\n", monkeypatch) == 1
    assert "已存在" in capsys.readouterr().err
